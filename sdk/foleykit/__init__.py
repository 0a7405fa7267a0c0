"""FoleyKit: procedural audio for game engines.

The native core (``foleykit._core``) turns spectrograms into waveforms; ``foleykit.dsp`` is
its Python face. Training, export and the CLI import their heavy dependencies only when used.
"""
from __future__ import annotations

from . import dsp
from ._core import DSPError, version as _native_version

__version__ = "0.1.0"
__all__ = ["dsp", "DSPError", "Engine", "Runtime", "__version__", "native_version"]


def __getattr__(name: str):
    # Lazy: the runtime imports onnxruntime, which ``import foleykit`` should not pay for.
    if name == "Runtime":
        from .runtime import Runtime

        return Runtime
    if name == "Engine":  # lazy too: its control schemas import the models package
        from .engine import Engine

        return Engine
    raise AttributeError(f"module 'foleykit' has no attribute {name!r}")


def native_version() -> str:
    """Version string of the compiled native core."""
    return _native_version()

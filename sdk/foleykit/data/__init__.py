"""Sound data: the built-in procedural corpus and the user's own sound folders.

``foleykit.data.procedural`` generates labelled sounds from physically informed DSP models;
``foleykit.data.SoundFolder`` reads a folder of real recordings. Both produce 48 kHz mono
float32 clips with named controls, and log-mel features through the native core.
"""
from __future__ import annotations

__all__ = ["SoundFolder", "procedural"]


def __getattr__(name: str):
    # Lazy: importing foleykit.data must not decode audio libraries or build generators.
    if name == "SoundFolder":
        from .folder import SoundFolder

        return SoundFolder
    if name == "procedural":
        # import_module, not "from . import procedural": that form looks the attribute up on
        # this package first, which lands back in this __getattr__ for ever.
        import importlib

        return importlib.import_module(".procedural", __name__)
    raise AttributeError(name)

"""The default models that ship with the package, so the runtime works out of the box.

>>> from foleykit.models import default
>>> from foleykit.runtime import Runtime
>>> rt = Runtime(default.path("oneshots"))                                  # doctest: +SKIP
>>> x = rt.render({"category": "impact", "material": "metal", "velocity": 6.0}, seed=3)

- ``oneshots.onnx``: conditional VAE over every one-shot category of the procedural corpus;
- ``ambiences.onnx``: causal Transformer (streaming) over every ambience category.

Each has its native model file beside it (``oneshots.fkm``, ``ambiences.fkm``: the same
weights, derived from the ONNX file by ``foleykit export --native-from``), which the native
runtime and the engine bindings load; :func:`native_path` (or ``path(kind, native=True)``)
gives it.

Both are made by ``python -m foleykit.recipes.default_models``; ``default_models.json`` in
this folder records how (command, steps, wall time, date, machine, sizes, measured levels).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

__all__ = ["KINDS", "ALIASES", "path", "native_path", "paths", "info", "for_category"]

KINDS = ("oneshots", "ambiences")
ALIASES = {"oneshot": "oneshots", "one_shot": "oneshots", "one-shot": "oneshots",
           "one_shots": "oneshots", "vae": "oneshots", "ambience": "ambiences",
           "transformer": "ambiences"}
_DIR = Path(__file__).resolve().parent


def path(kind: str = "oneshots", native: bool = False) -> Path:
    """The shipped model file for ``kind`` ("oneshots" or "ambiences"; "one_shot",
    "ambience", "vae", "transformer" also accepted): the ``.onnx`` file, or with ``native``
    the ``.fkm`` file made from it. FileNotFoundError if the package was built without it."""
    k = ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if k not in KINDS:
        raise ValueError(f"unknown default model {kind!r}; known: {', '.join(KINDS)}")
    p = _DIR / f"{k}.{'fkm' if native else 'onnx'}"
    if not p.is_file():
        raise FileNotFoundError(f"the default model {p} is missing; rebuild it with "
                                "python -m foleykit.recipes.default_models --install"
                                + (f" (or foleykit export --native-from {k}.onnx)"
                                   if native else ""))
    return p


def native_path(kind: str = "oneshots") -> Path:
    """The shipped native model file (``.fkm``) for ``kind``: ``path(kind, native=True)``."""
    return path(kind, native=True)


def paths() -> Dict[str, Path]:
    """``{kind: path}`` for both shipped models."""
    return {k: path(k) for k in KINDS}


def for_category(category: str) -> Path:
    """The shipped model that renders a procedural-corpus ``category``."""
    from ...data import procedural as P

    return path("ambiences" if P.is_ambience(category) else "oneshots")


def info() -> Dict[str, Any]:
    """The build record (``default_models.json``): recipe, steps, wall times, machine..."""
    return json.loads((_DIR / "default_models.json").read_text())

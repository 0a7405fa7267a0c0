"""Recipes: reproducible training runs that make the files FoleyKit ships.

- :mod:`foleykit.recipes.default_models` trains and exports the default models
  (``python -m foleykit.recipes.default_models``), from ``oneshots.json`` and
  ``ambiences.json`` in this folder;
- :mod:`foleykit.recipes.listen` measures what a model renders against the procedural sounds.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["RECIPE_DIR", "config_path"]

RECIPE_DIR = Path(__file__).resolve().parent


def config_path(name: str) -> Path:
    """The settings file of a default model: ``"oneshots"`` or ``"ambiences"``."""
    p = RECIPE_DIR / f"{name}.json"
    if not p.is_file():
        raise ValueError(f"no recipe settings {name!r}; known: oneshots, ambiences")
    return p

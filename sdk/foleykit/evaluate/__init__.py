"""Evaluation of exported models against real sounds (``foleykit evaluate``).

:func:`evaluate` generates clips per category and compares them with a sound folder the
model was not trained on (Fréchet distance, category accuracy of a classifier trained on
the real clips, diversity across seeds, nearest reference clip); :mod:`.metrics` holds the
numpy metrics; :mod:`.cli` the command.
"""
from __future__ import annotations

__all__ = ["evaluate", "EvaluationError", "format_table", "metrics"]


def __getattr__(name: str):
    # Lazy: `foleykit --help` imports the CLI module only, not onnxruntime or matplotlib.
    if name in ("evaluate", "EvaluationError", "format_table"):
        from . import evaluation

        return getattr(evaluation, name)
    if name == "metrics":
        import importlib

        return importlib.import_module(".metrics", __name__)
    raise AttributeError(name)

"""Export: trained runs to ONNX files that carry their feature settings, control schema and
a content hash (``foleykit export RUN --out model.onnx``)."""
from __future__ import annotations

from .metadata import ModelFileError, load_metadata

__all__ = ["export_run", "export_model", "load_metadata", "ModelFileError"]


def __getattr__(name: str):
    # torch loads only when exporting; reading metadata needs onnx alone
    if name in ("export_run", "export_model"):
        from . import onnx_export

        return getattr(onnx_export, name)
    raise AttributeError(name)

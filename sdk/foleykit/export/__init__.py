"""Export: trained runs to ONNX files that carry their feature settings, control schema and
a content hash (``foleykit export RUN --out model.onnx``), and the native runtime's model
file (``.fkm``) derived from such an ONNX file (:func:`write_native`, :func:`read_native`)."""
from __future__ import annotations

from .metadata import ModelFileError, load_metadata
from .native import read_native, reference_forward, write_native

__all__ = ["export_run", "export_model", "load_metadata", "ModelFileError", "write_native",
           "read_native", "reference_forward"]


def __getattr__(name: str):
    # torch loads only when exporting; reading metadata needs onnx alone
    if name in ("export_run", "export_model"):
        from . import onnx_export

        return getattr(onnx_export, name)
    raise AttributeError(name)

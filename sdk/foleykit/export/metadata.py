"""The metadata every exported model carries (ONNX ``metadata_props``, each value JSON text)
and :func:`load_metadata`, which reads it back and refuses damaged files.

The content hash is SHA-256 over the serialised model with the ``content_hash`` entry left
out, so a truncated or edited file is caught even when protobuf happens to parse it."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, Mapping, Union

__all__ = ["ModelFileError", "load_metadata", "set_metadata", "content_hash", "REQUIRED_KEYS",
           "FORMAT_VERSION"]

FORMAT_VERSION = 1
REQUIRED_KEYS = ("foleykit_format", "model_family", "sample_rate", "n_fft", "hop", "window",
                 "center", "n_mels", "fmin", "fmax", "log_floor", "control_schema", "max_frames",
                 "content_hash")


class ModelFileError(ValueError):
    """An exported model file that is missing, truncated, corrupt or not FoleyKit's."""


def content_hash(model) -> str:
    """SHA-256 hex of ``model`` (an onnx ModelProto) serialised without its content_hash."""
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(model)
    # plain (key, value) pairs: re-adding removed message objects is not reliable in upb
    keep = [(p.key, p.value) for p in m.metadata_props if p.key != "content_hash"]
    del m.metadata_props[:]
    for k, v in keep:
        p = m.metadata_props.add()
        p.key, p.value = k, v
    return hashlib.sha256(m.SerializeToString(deterministic=True)).hexdigest()


def set_metadata(model, meta: Mapping[str, Any]) -> None:
    """Writes ``meta`` (JSON-able values) into ``model.metadata_props``, then the hash."""
    del model.metadata_props[:]
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, json.dumps(v, sort_keys=True, separators=(",", ":"))
    digest = content_hash(model)  # before add(): an empty entry would change the bytes
    p = model.metadata_props.add()
    p.key, p.value = "content_hash", json.dumps(digest)


def load_metadata(path: Union[str, Path]) -> Dict[str, Any]:
    """The metadata of an exported model as a dict (``control_schema`` as a dict too).

    Raises :class:`ModelFileError` (a ValueError) for a missing, truncated or corrupt file,
    a file without FoleyKit metadata, or one whose content no longer matches its hash.
    """
    import onnx

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    data = path.read_bytes()
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:
        raise ModelFileError(f"{str(path)!r} is not a readable ONNX model (truncated or "
                             f"corrupt?): {type(e).__name__}: {e}") from None
    props = {p.key: p.value for p in model.metadata_props}
    missing = [k for k in REQUIRED_KEYS if k not in props]
    if missing:
        raise ModelFileError(f"{str(path)!r} is not a complete FoleyKit model (truncated or "
                             f"not exported by foleykit export): missing {', '.join(missing)}")
    try:
        meta = {k: json.loads(v) for k, v in props.items()}
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{str(path)!r} has corrupt metadata: {e}") from None
    if meta["content_hash"] != content_hash(model):
        raise ModelFileError(f"{str(path)!r} is corrupt: its content does not match its hash "
                             "(truncated or modified after export)")
    if meta["foleykit_format"] != FORMAT_VERSION:
        raise ModelFileError(f"{str(path)!r} has format {meta['foleykit_format']}; this "
                             f"FoleyKit reads format {FORMAT_VERSION}")
    return meta

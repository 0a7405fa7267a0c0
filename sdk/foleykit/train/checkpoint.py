"""Checkpoints: a dict of state_dicts, tensors and JSON-able plain data, written atomically
(temp file + os.replace, so a crash never leaves half a checkpoint) and read back with
``torch.load(weights_only=True)`` (no pickled code runs on load)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Union

import torch

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT", "atomic_write_bytes"]

CHECKPOINT = "checkpoint.pt"


def atomic_write_bytes(path: Union[str, Path], write) -> None:
    """Calls ``write(file)`` on a temp file next to ``path``, then renames it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path: Union[str, Path], ckpt: Dict[str, Any]) -> None:
    atomic_write_bytes(path, lambda f: torch.save(ckpt, f))


def load_checkpoint(path: Union[str, Path]) -> Dict[str, Any]:
    """The checkpoint dict; ValueError for a missing or unreadable file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {str(path)!r}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"checkpoint {str(path)!r} is corrupt or not a FoleyKit checkpoint: "
                         f"{e}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != 1:
        raise ValueError(f"checkpoint {str(path)!r} is not a FoleyKit checkpoint (format 1)")
    return ckpt


def load_model(run: Union[str, Path]):
    """Rebuilds the model of a run folder (or a checkpoint file) in eval mode.

    Returns ``(model, schema, config_dict, checkpoint)``.
    """
    from ..models import ControlSchema, build_model

    p = Path(run)
    ck = load_checkpoint(p / CHECKPOINT if p.is_dir() else p)
    cfg = ck["config"]
    schema = ControlSchema.from_dict(ck["schema"])
    model = build_model(ck["family"], schema, cfg["n_mels"], cfg["frames"], cfg["log_floor"],
                        cfg.get("model_config") or {})
    model.load_state_dict(ck["model"])
    model.eval()
    return model, schema, cfg, ck

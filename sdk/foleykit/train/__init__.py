"""Training: ``foleykit train`` and its pieces (config, data, loop, checkpoints, previews).

Importing this package is cheap; torch and the data pipeline load when a run starts."""
from __future__ import annotations

__all__ = ["TrainConfig", "resolve_config", "train", "load_model", "load_checkpoint"]


def __getattr__(name: str):
    if name in ("TrainConfig", "resolve_config"):
        from . import config

        return getattr(config, name)
    if name == "train":
        from .loop import train

        return train
    if name in ("load_model", "load_checkpoint"):
        from . import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(name)

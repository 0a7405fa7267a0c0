"""Training configuration: defaults, a JSON/TOML file over them, command-line overrides over
that. The resolved result is written to the run folder as ``config.json``."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

__all__ = ["TrainConfig", "load_config_file", "resolve_config", "SMOKE"]


@dataclass
class TrainConfig:
    model: str = "vae"                     # vae | gan | transformer
    data: str = "corpus"                   # "corpus" or a sound folder
    seed: int = 0
    steps: int = 3000
    batch_size: int = 16                   # global: split across DDP processes
    lr: float = 1e-3
    grad_clip: float = 1.0
    # corpus: categories (None: every one-shot, or every ambience for the Transformer)
    categories: Optional[List[str]] = None
    clips_per_category: int = 32
    ambience_seconds: float = 4.0
    # features (DESIGN.md defaults) and clip length of one-shot models
    sample_rate: int = 48000
    n_fft: int = 1024
    hop: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: Optional[float] = None
    log_floor: float = 1e-5
    frames: int = 128                      # 128 x 256 / 48 kHz = 0.68 s
    # outputs
    log_every: int = 10
    preview_every: int = 500
    checkpoint_every: int = 250
    model_config: Dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        from ..models import FAMILIES, model_config

        if self.model not in FAMILIES:
            raise ValueError(f"model must be one of {', '.join(FAMILIES)}; got {self.model!r}")
        model_config(self.model, self.model_config)  # unknown keys raise here, not mid-run
        for name in ("steps", "batch_size", "clips_per_category", "frames", "log_every",
                     "preview_every", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


# What --smoke-test changes: a few steps of the real pipeline on a handful of short clips.
SMOKE = {"steps": 3, "batch_size": 4, "clips_per_category": 2, "ambience_seconds": 0.6,
         "log_every": 1, "preview_every": 3, "checkpoint_every": 3}


def load_config_file(path: str) -> Dict[str, Any]:
    """A .json or .toml file -> dict. ValueError naming the file for anything unreadable."""
    p = Path(path)
    try:
        if p.suffix.lower() == ".toml":
            import tomllib

            with open(p, "rb") as f:
                d = tomllib.load(f)
        else:
            d = json.loads(p.read_text())
    except FileNotFoundError:
        raise ValueError(f"config file {str(p)!r} does not exist") from None
    except Exception as e:  # a parse error: say which file
        raise ValueError(f"config file {str(p)!r} could not be read: {e}") from None
    if not isinstance(d, dict):
        raise ValueError(f"config file {str(p)!r} must hold a table/object")
    return d


def resolve_config(base: Optional[Mapping[str, Any]] = None,
                   overrides: Optional[Mapping[str, Any]] = None) -> TrainConfig:
    """Defaults <- ``base`` (a config file's dict) <- ``overrides`` (non-None CLI values)."""
    known = {f.name for f in fields(TrainConfig)}
    merged: Dict[str, Any] = {}
    for src in (base or {}, {k: v for k, v in (overrides or {}).items() if v is not None}):
        bad = set(src) - known
        if bad:
            raise ValueError(f"unknown training setting(s) {sorted(bad)}; known: {sorted(known)}")
        merged.update(src)
    cfg = TrainConfig(**merged)
    cfg.validate()
    return cfg

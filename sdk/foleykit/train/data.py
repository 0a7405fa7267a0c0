"""Training data as tensors: procedural corpus clips generated on the fly (deterministic for
the seed) or a user's :class:`~foleykit.data.SoundFolder`, turned into log-mel through
:func:`foleykit.dsp.log_mel` and control vectors through a :class:`ControlSchema`."""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
import torch

from .. import dsp
from ..models import ControlDef, ControlSchema, alive_mask, compute_stats
from .config import TrainConfig

__all__ = ["Dataset", "load_dataset"]


@dataclass
class Dataset:
    """``mels``: list of log-mel ``(n_mels, frames)`` float32 (one-shots: exactly
    ``cfg.frames``, floor-padded); ``alive``: ``(frames,)`` 0/1 per one-shot clip;
    ``controls``: ``(N, schema.dim)``; ``stats`` for :class:`~foleykit.models.FeatureStats`."""

    schema: ControlSchema
    mels: List[np.ndarray]
    alive: List[np.ndarray]
    controls: np.ndarray
    stats: Dict[str, float]
    names: List[str]

    def __len__(self) -> int:
        return len(self.mels)

    def one_shot_batch(self, idx: torch.Tensor):
        """``(mel (B, n_mels, T), alive (B, T), controls (B, C))`` tensors."""
        i = idx.tolist()
        return (torch.from_numpy(np.stack([self.mels[k] for k in i])),
                torch.from_numpy(np.stack([self.alive[k] for k in i])),
                torch.from_numpy(self.controls[i]))

    def window_batch(self, idx: torch.Tensor, starts: torch.Tensor, length: int):
        """Ambience windows ``(B, length, n_mels)`` starting at ``starts`` (negative: that
        many floor frames first, as a stream starting from silence sees), controls ``(B, C)``."""
        lo = math.log(self.stats_floor)
        out = []
        for k, s in zip(idx.tolist(), starts.tolist()):
            m = self.mels[k]
            w = np.full((m.shape[0], length), lo, np.float32)
            a, b = max(s, 0), min(s + length, m.shape[1])
            w[:, a - s: b - s] = m[:, a:b]
            out.append(w.T)
        return torch.from_numpy(np.stack(out)), torch.from_numpy(self.controls[idx.tolist()])

    stats_floor: float = 1e-5


def _fit(mel: np.ndarray, frames: int, log_floor: float) -> np.ndarray:
    out = np.full((mel.shape[0], frames), math.log(log_floor), np.float32)
    n = min(frames, mel.shape[1])
    out[:, :n] = mel[:, :n]
    return out


def _features(x: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    return dsp.log_mel(x.astype(np.float32), cfg.sample_rate, cfg.n_fft, cfg.hop, cfg.n_mels,
                       cfg.fmin, cfg.fmax, cfg.log_floor)


def _corpus(cfg: TrainConfig, one_shot: bool):
    # importlib: foleykit.data's lazy __getattr__ recurses on `from foleykit.data import ...`
    P = importlib.import_module("foleykit.data.procedural")
    pool = P.ONE_SHOTS if one_shot else P.AMBIENCES
    cats = list(cfg.categories) if cfg.categories else list(pool)
    for c in cats:
        if c not in P.CATEGORIES:
            raise ValueError(f"unknown corpus category {c!r}; valid: {', '.join(P.CATEGORIES)}")
        if c not in pool:
            kind = "one-shot" if one_shot else "ambience"
            raise ValueError(f"category {c!r} is not a {kind}; the {cfg.model} model trains on "
                             f"{', '.join(pool)}")
    schema = ControlSchema.from_categories([P.CATEGORIES[c] for c in cats])
    rng = np.random.default_rng(cfg.seed)
    duration = (cfg.frames * cfg.hop / cfg.sample_rate if one_shot else cfg.ambience_seconds)
    rows, audio, names = [], [], []
    for c in cats:
        for i in range(cfg.clips_per_category):
            values = P.sample_controls(c, rng)
            seed = int(rng.integers(2**62))
            audio.append(P.generate(c, seed=seed, duration=duration, sr=cfg.sample_rate,
                                    **values))
            rows.append(_schema_values(schema, c, values))
            names.append(f"{c}/{i}")
    return schema, audio, rows, names


def _schema_values(schema: ControlSchema, category: str, values: Dict) -> Dict:
    out = {"category": category}
    for k, v in values.items():
        out[k if k in schema.names else f"{category}.{k}"] = v
    return out


def _folder(cfg: TrainConfig):
    from ..data.folder import SoundFolder

    folder = SoundFolder(cfg.data, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop=cfg.hop,
                         n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax,
                         log_floor=cfg.log_floor)
    if len(folder) == 0:
        raise ValueError(f"sound folder {cfg.data!r} has no usable clips "
                         f"({len(folder.skipped)} skipped)")
    defs = [ControlDef("category", "categorical", folder.categories[0],
                       choices=tuple(folder.categories))]
    for name, spec in sorted(folder.controls.items()):
        lo, hi = float(spec.lo), float(spec.hi)
        log = bool(spec.log) and lo > 0
        if not hi > lo:  # one value in the whole dataset: any range containing it will do
            lo, hi = lo - 0.5, hi + 0.5
            log = False
        defs.append(ControlDef(name, "continuous", (lo + hi) / 2 if not log else
                               math.sqrt(lo * hi), low=lo, high=hi, log=log, unit=spec.unit))
    schema = ControlSchema(defs)
    rows, mels, names = [], [], []
    for it in folder:
        row = {"category": it.category}
        for name in folder.controls:
            d = schema[name]
            row[name] = min(max(float(it.controls[name]), d.low), d.high)
        rows.append(row)
        mels.append(it.mel)
        names.append(it.file)
    return schema, mels, rows, names


def load_dataset(cfg: TrainConfig) -> Dataset:
    """The training set for ``cfg`` (corpus when ``cfg.data == "corpus"``, else a folder)."""
    one_shot = cfg.model != "transformer"
    if cfg.data == "corpus":
        schema, audio, rows, names = _corpus(cfg, one_shot)
        mels = [_features(x, cfg) for x in audio]
    else:
        schema, mels, rows, names = _folder(cfg)
    alive: List[np.ndarray] = []
    if one_shot:
        mels = [_fit(m, cfg.frames, cfg.log_floor) for m in mels]
        alive = [alive_mask(m) for m in mels]
    stats = compute_stats(mels, cfg.log_floor)
    ds = Dataset(schema, mels, alive, schema.encode_batch(rows), stats, names)
    ds.stats_floor = cfg.log_floor
    return ds

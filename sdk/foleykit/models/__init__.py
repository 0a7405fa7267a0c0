"""Compact conditional sound models: a VAE and a GAN for one-shot effects, a causal
Transformer for ambiences, all conditioned through one :class:`ControlSchema`.

Every model keeps its feature statistics as buffers (:class:`FeatureStats`) and is built by
:func:`build_model` from a family name, a schema and a plain-dict config, which is how
checkpoints and exported files rebuild them.
"""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Dict, Mapping, Optional

from torch import nn

from .common import FeatureStats, alive_mask, compute_stats, count_parameters, seed_noise
from .controls import ControlDef, ControlSchema
from .gan import ConditionalGAN, GANConfig
from .transformer import CausalTransformer, TransformerConfig
from .vae import ConditionalVAE, VAEConfig

__all__ = ["ControlDef", "ControlSchema", "ConditionalVAE", "ConditionalGAN",
           "CausalTransformer", "VAEConfig", "GANConfig", "TransformerConfig", "FAMILIES",
           "build_model", "model_config", "FeatureStats", "seed_noise", "alive_mask",
           "compute_stats", "count_parameters", "ONE_SHOT"]

FAMILIES = {"vae": (ConditionalVAE, VAEConfig), "gan": (ConditionalGAN, GANConfig),
            "transformer": (CausalTransformer, TransformerConfig)}
ONE_SHOT = ("vae", "gan")


def model_config(family: str, overrides: Optional[Mapping[str, Any]] = None):
    """The family's config dataclass with ``overrides``; ValueError for unknown keys."""
    if family not in FAMILIES:
        raise ValueError(f"model must be one of {', '.join(FAMILIES)}; got {family!r}")
    cls = FAMILIES[family][1]
    names = {f.name for f in fields(cls)}
    bad = set(overrides or {}) - names
    if bad:
        raise ValueError(f"unknown {family} model setting(s) {sorted(bad)}; known: {sorted(names)}")
    return cls(**dict(overrides or {}))


def build_model(family: str, schema: ControlSchema, n_mels: int = 80, frames: int = 128,
                log_floor: float = 1e-5, config: Optional[Mapping[str, Any]] = None) -> nn.Module:
    """A fresh model of ``family`` ("vae" | "gan" | "transformer"); ``frames`` is the clip
    length of one-shot models (ignored by the Transformer, whose length is unbounded)."""
    cfg = model_config(family, config)
    if family == "transformer":
        return CausalTransformer(schema.dim, n_mels, log_floor, cfg)
    return FAMILIES[family][0](schema.dim, n_mels, frames, log_floor, cfg)

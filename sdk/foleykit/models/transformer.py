"""Causal Transformer for ambiences: predicts the next log-mel frame from a bounded window of
past frames and the controls, then draws it with seeded noise, so an ambience streams forever.

Streaming form: ``step(frame, controls, noise, state) -> (next_frame, state)`` where ``state``
is the rolling window of the last ``state_frames`` frames ``(B, state_frames, n_mels)``: fixed
size, no growth, exportable as a plain input/output pair.

Two positional forms (``TransformerConfig.positional``):

- ``"absolute"``: a learned embedding per position of the window, added to the input. When the
  window slides every position changes, so a step recomputes every row; ``state_frames`` is
  ``window``.
- ``"relative"``: no input embedding; each attention adds a learned per-head bias indexed by the
  distance between query and key (0 .. window-1) and attends over a band of ``window`` rows
  (row i sees rows i-window+1 .. i). A row's keys and values at every layer then depend only on
  the frames before it and the controls, never on where the window starts: a runtime can
  compute each row once, when it is newest, and cache it (the native runtime does). The step's
  state is the newest row's receptive field, ``state_frames = layers * (window - 1) + 1``
  frames, so the step stays a pure function of its inputs. Trained on sequences of
  ``2 * window`` inputs, so rows with a full band are in every batch.

Stabilisers against long-rollout drift: training injects noise into input frames and feeds
the model its own samples (scheduled sampling); at inference every output is clamped to the
trained feature range and each frame's mean level is held inside the level range seen in
training (a gain correction in the log domain), so a rollout can neither die into silence
nor run away into full-scale noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .common import FeatureStats

__all__ = ["TransformerConfig", "CausalTransformer"]


@dataclass
class TransformerConfig:
    window: int = 32
    d_model: int = 96
    heads: int = 4
    layers: int = 2
    ff: int = 192
    input_noise: float = 0.1      # std of noise added to normalised inputs in training
    sched_sampling: float = 0.25  # share of input frames replaced by the model's own samples
    max_log_std: float = 1.0      # bound on the predicted spread (normalised units)
    positional: str = "absolute"  # "absolute" (learned per position) | "relative" (see above)
    # relative form: share of training sequences that begin in silence (1 .. 2 * window - 1
    # floor frames, then the clip), as a stream does; the others start anywhere in the clip
    silence_starts: float = 0.0

    def __post_init__(self) -> None:
        if self.positional not in POSITIONAL:
            raise ValueError(f"positional must be one of {', '.join(POSITIONAL)}; got "
                             f"{self.positional!r}")


POSITIONAL = ("absolute", "relative")


class _Block(nn.Module):
    def __init__(self, d: int, heads: int, ff: int, rel_window: int = 0) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))
        # relative form: bias[h, distance], distance = query row - key row in [0, window)
        self.rel_bias = nn.Parameter(torch.zeros(heads, rel_window)) if rel_window else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                dist: Optional[torch.Tensor] = None) -> torch.Tensor:
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        s = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(hd))
        if self.rel_bias is not None:
            # (heads, t, t); the export folds it into one constant, the mask stays apart
            s = s + self.rel_bias[:, dist]
        att = torch.softmax(s + mask, dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.mlp(self.ln2(x))


def _band(n: int, window: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The relative form's banded causal mask ``(n, n)`` (0 where row i may attend to row j,
    i.e. 0 <= i - j < window, else -inf) and the distance index ``i - j`` clamped to
    [0, window) (masked entries read a valid bias, then -inf)."""
    rel = torch.arange(n).unsqueeze(1) - torch.arange(n).unsqueeze(0)
    mask = torch.where((rel >= 0) & (rel < window), 0.0, float("-inf"))
    return mask, rel.clamp(0, window - 1)


class CausalTransformer(nn.Module):
    """``forward(frames (B, T<=window, n_mels), controls (B, C)) -> (mu, log_std)`` each
    ``(B, T, n_mels)`` in normalised units: position t predicts frame t + 1 from frames <= t."""

    family = "transformer"

    def __init__(self, c_dim: int, n_mels: int = 80, log_floor: float = 1e-5,
                 config: TransformerConfig = TransformerConfig()) -> None:
        super().__init__()
        self.config, self.n_mels, self.c_dim = config, n_mels, c_dim
        self.window = w = config.window
        self.relative = config.positional == "relative"
        # frames of state a step takes: the window, or the newest row's receptive field
        self.state_frames = config.layers * (w - 1) + 1 if self.relative else w
        # frames per training sequence (inputs + the last target)
        self.train_frames = 2 * w + 1 if self.relative else w + 1
        self.stats = FeatureStats(log_floor)
        d = config.d_model
        self.inp = nn.Linear(n_mels, d)
        self.ctrl = nn.Linear(c_dim, d)
        if not self.relative:
            self.pos = nn.Parameter(torch.randn(w, d) * 0.02)
        self.blocks = nn.ModuleList(_Block(d, config.heads, config.ff,
                                           w if self.relative else 0)
                                    for _ in range(config.layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, 2 * n_mels)
        if self.relative:
            mask, dist = _band(max(self.state_frames, self.train_frames), w)
            self.register_buffer("dist", dist, persistent=False)
        else:
            mask = torch.full((w, w), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, frames: torch.Tensor, controls: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        t = frames.shape[1]
        if self.relative:
            h = self.inp(frames) + self.ctrl(controls).unsqueeze(1)
            if t <= self.mask.shape[0]:
                mask, dist = self.mask[:t, :t], self.dist[:t, :t]
            else:  # longer than any step or training sequence: built for this call
                mask, dist = (x.to(frames.device) for x in _band(t, self.window))
        else:
            h = self.inp(frames) + self.pos[:t] + self.ctrl(controls).unsqueeze(1)
            mask, dist = self.mask[:t, :t], None
        for blk in self.blocks:
            h = blk(h, mask, dist)
        mu, log_std = self.head(self.ln(h)).chunk(2, dim=-1)
        return mu, log_std.clamp(-5.0, self.config.max_log_std)

    # -- streaming -------------------------------------------------------------------------

    def initial_state(self, batch: int = 1) -> torch.Tensor:
        """Silence: floor frames ``(batch, state_frames, n_mels)`` in log-mel units."""
        return self.stats.lo.expand(batch, self.state_frames, self.n_mels).clone()

    def silence(self, batch: int = 1) -> torch.Tensor:
        """One floor frame ``(batch, n_mels)``; the first ``frame`` fed to :meth:`step`."""
        return self.stats.lo.expand(batch, self.n_mels).clone()

    def step(self, frame: torch.Tensor, controls: torch.Tensor, noise: torch.Tensor,
             state: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One frame of the stream, all in log-mel units.

        frame: ``(B, n_mels)`` the newest frame (the previous output); controls ``(B, C)``;
        noise ``(B, n_mels)`` standard normal; state ``(B, state_frames, n_mels)`` past frames.
        Returns the next frame ``(B, n_mels)`` and the new state (frame pushed in).
        """
        state = torch.cat([state[:, 1:], frame.unsqueeze(1)], dim=1)
        mu, log_std = self(self.stats.normalize(state), controls)
        x = mu[:, -1] + torch.exp(log_std[:, -1]) * noise
        y = x * self.stats.spread + self.stats.center
        return self._stabilise(y), state

    def _stabilise(self, y: torch.Tensor) -> torch.Tensor:
        level = y.mean(dim=-1, keepdim=True)
        y = y + (torch.minimum(torch.maximum(level, self.stats.level_lo), self.stats.level_hi)
                 - level)
        return torch.minimum(torch.maximum(y, self.stats.lo), self.stats.hi)

    # -- training --------------------------------------------------------------------------

    def loss(self, seq: torch.Tensor, controls: torch.Tensor,
             real: Optional[torch.Tensor] = None, generator: torch.Generator = None
             ) -> Tuple[torch.Tensor, Dict[str, float]]:
        """``seq (B, T + 1, n_mels)`` log-mel (``T + 1 = train_frames``; the absolute form
        needs ``T <= window``): inputs are frames 0..T-1, targets 1..T. Gaussian NLL with
        input-noise injection, then a second pass in which a share of the inputs are the
        model's own (detached) samples.

        ``real (B, T + 1)`` (bool, optional) marks the frames of the clip, the others being
        the floor frames before it (a stream starting from silence). Given, the floor frames
        stay exact inputs (no noise, never replaced by samples) and are never targets: a
        model without positions cannot tell how long a silence has lasted, and would learn
        from "silence follows silence" targets that a stream started from silence stays
        silent, instead of how the sound begins."""
        x = self.stats.normalize(seq)
        inp, tgt = x[:, :-1], x[:, 1:]
        noise = self.config.input_noise * torch.randn(inp.shape, generator=generator)
        if real is not None:
            real_in, weight = real[:, :-1], real[:, 1:].to(x.dtype)
            noise = noise * real_in.unsqueeze(-1)

        def nll_of(mu: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
            e = 0.5 * ((tgt - mu) / log_std.exp()).pow(2) + log_std
            if real is None:
                return e.mean()
            return (e.mean(-1) * weight).sum() / weight.sum().clamp(min=1.0)

        mu, log_std = self(inp + noise, controls)
        nll = nll_of(mu, log_std)
        total = nll
        logs = {"nll": nll.item()}
        if self.config.sched_sampling > 0:
            with torch.no_grad():  # own samples for positions 1.. (predicted from 0..t-1)
                own = mu + log_std.exp() * torch.randn(mu.shape, generator=generator)
                own = torch.cat([inp[:, :1], own[:, :-1]], dim=1)
                pick = torch.rand(inp.shape[:2], generator=generator) < self.config.sched_sampling
                if real is not None:
                    pick = pick & real_in
                mixed = torch.where(pick.unsqueeze(-1), own, inp)
            mu2, log_std2 = self(mixed, controls)
            nll2 = nll_of(mu2, log_std2)
            total = 0.5 * (nll + nll2)
            logs["nll_ss"] = nll2.item()
        logs["loss"] = total.item()
        return total, logs

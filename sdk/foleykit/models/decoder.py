"""The one-shot clip decoder shared by the VAE (as its decoder) and the GAN (as its generator):
``(z, controls) -> (log_mel, alive_logits)``.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import nn

from .common import FeatureStats

__all__ = ["ClipDecoder"]


class ClipDecoder(nn.Module):
    """``z (batch, z_dim)``, ``controls (batch, c_dim)`` -> ``log_mel (batch, n_mels, frames)``
    in [stats.lo, stats.hi] and ``alive_logits (batch, frames)`` (> 0: still sounding).

    A linear layer makes ``base_frames`` frames; each stage doubles time (nearest repeat, then
    a convolution) with a control-dependent bias, so controls steer every scale.
    """

    def __init__(self, z_dim: int, c_dim: int, n_mels: int = 80, frames: int = 128,
                 channels: int = 64, base_frames: int = 16, kernel: int = 5,
                 stats: FeatureStats = None) -> None:
        super().__init__()
        stages = 0
        while base_frames << stages < frames:
            stages += 1
        if base_frames << stages != frames:
            raise ValueError(f"frames ({frames}) must be base_frames ({base_frames}) times a "
                             "power of two")
        self.z_dim, self.c_dim, self.n_mels, self.frames = z_dim, c_dim, n_mels, frames
        self.channels, self.base_frames = channels, base_frames
        self.stats = stats if stats is not None else FeatureStats()
        self.fc = nn.Linear(z_dim + c_dim, channels * base_frames)
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
                                   for _ in range(stages + 1))
        self.cond = nn.ModuleList(nn.Linear(c_dim, channels) for _ in range(stages + 1))
        self.out = nn.Conv1d(channels, n_mels + 1, 3, padding=1)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, z: torch.Tensor, controls: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        b = z.shape[0]
        h = self.act(self.fc(torch.cat([z, controls], dim=1)))
        h = h.reshape(b, self.channels, self.base_frames)
        for i, (conv, cond) in enumerate(zip(self.convs, self.cond)):
            if i > 0:  # nearest-neighbour doubling by reshape: exports as plain ONNX ops
                h = h.unsqueeze(-1).expand(-1, -1, -1, 2).reshape(b, self.channels, -1)
            h = h + self.act(conv(h) + cond(controls).unsqueeze(-1))  # residual: easy to train
        out = self.out(h)
        return self.stats.bounded(out[:, : self.n_mels]), out[:, self.n_mels]

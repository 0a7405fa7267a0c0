"""Conditional GAN for one-shot effects: the generator is a :class:`ClipDecoder`; the
projection discriminator (spectral norm, hinge loss) exists only in training. For a few
hundred clips a feature-matching term keeps the generator from chasing the discriminator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .common import FeatureStats
from .decoder import ClipDecoder

__all__ = ["GANConfig", "ConditionalGAN", "Discriminator"]


@dataclass
class GANConfig:
    z_dim: int = 32
    channels: int = 64
    disc_channels: int = 64
    base_frames: int = 16
    kernel: int = 5
    fm_weight: float = 2.0
    alive_weight: float = 0.5
    lr_disc: float = 2e-4


class Discriminator(nn.Module):
    """``log_mel (B, n_mels, T)``, ``alive (B, T)`` in [0, 1], ``controls (B, C)`` -> score
    ``(B,)`` and the intermediate features (for feature matching)."""

    def __init__(self, c_dim: int, n_mels: int, channels: int, stats: FeatureStats) -> None:
        super().__init__()
        self.stats = stats
        self.convs = nn.ModuleList([
            spectral_norm(nn.Conv1d(n_mels + 1, channels, 5, stride=2, padding=2)),
            spectral_norm(nn.Conv1d(channels, channels, 5, stride=2, padding=2)),
            spectral_norm(nn.Conv1d(channels, channels, 5, stride=2, padding=2))])
        self.head = spectral_norm(nn.Linear(channels, 1))
        self.embed = spectral_norm(nn.Linear(c_dim, channels))  # projection conditioning

    def forward(self, mel: torch.Tensor, alive: torch.Tensor, controls: torch.Tensor
                ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        h = torch.cat([self.stats.normalize(mel), alive.unsqueeze(1)], dim=1)
        feats = []
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)
            feats.append(h)
        pooled = h.mean(dim=2)
        score = self.head(pooled).squeeze(1) + (self.embed(controls) * pooled).sum(1)
        return score, feats


class ConditionalGAN(nn.Module):
    """``generator(z (B, z_dim), controls (B, C)) -> (log_mel (B, n_mels, T), alive_logits
    (B, T))``; ``discriminator`` is training-only."""

    family = "gan"

    def __init__(self, c_dim: int, n_mels: int = 80, frames: int = 128, log_floor: float = 1e-5,
                 config: GANConfig = GANConfig()) -> None:
        super().__init__()
        self.config = config
        self.stats = FeatureStats(log_floor)
        self.generator = ClipDecoder(config.z_dim, c_dim, n_mels, frames, config.channels,
                                     config.base_frames, config.kernel, self.stats)
        self.discriminator = Discriminator(c_dim, n_mels, config.disc_channels, self.stats)

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    @property
    def decoder(self) -> ClipDecoder:
        return self.generator

    def decode(self, z: torch.Tensor, controls: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.generator(z, controls)

    forward = decode

    def d_loss(self, g: nn.Module, d: nn.Module, mel, alive, controls, z
               ) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Hinge loss of the discriminator ``d`` (possibly DDP-wrapped) on a batch. Real and
        fake go through ``d`` in one call: DDP expects one forward per backward."""
        with torch.no_grad():
            fake, fake_alive = g(z, controls)
        b = mel.shape[0]
        score, _ = d(torch.cat([mel, fake]), torch.cat([alive, torch.sigmoid(fake_alive)]),
                     torch.cat([controls, controls]))
        loss = F.relu(1.0 - score[:b]).mean() + F.relu(1.0 + score[b:]).mean()
        return loss, {"d": loss.item()}

    def g_loss(self, g: nn.Module, d: nn.Module, mel, alive, controls, z
               ) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Generator loss: hinge adversarial + feature matching + an alive head that agrees
        with the generated clip's own loudness envelope (the same rule as the data's)."""
        fake, fake_alive = g(z, controls)
        fake_score, fake_feats = d(fake, torch.sigmoid(fake_alive), controls)
        with torch.no_grad():
            _, real_feats = d(mel, alive, controls)
            target = _alive_target(fake.detach())
        adv = -fake_score.mean()
        fm = sum(F.l1_loss(f.mean(0), r.mean(0)) for f, r in zip(fake_feats, real_feats))
        l_alive = F.binary_cross_entropy_with_logits(fake_alive, target)
        loss = adv + self.config.fm_weight * fm + self.config.alive_weight * l_alive
        return loss, {"g": adv.item(), "fm": fm.item(), "alive": l_alive.item()}


def _alive_target(mel: torch.Tensor, db_below_peak: float = 60.0) -> torch.Tensor:
    """Batched torch form of :func:`foleykit.models.common.alive_mask`: ``(B, n_mels, T) ->
    (B, T)``."""
    peak = mel.max(dim=1).values
    loud = peak >= peak.max(dim=1, keepdim=True).values - db_below_peak / 20.0 * 2.302585093
    idx = torch.arange(mel.shape[2], dtype=torch.float32)
    last = torch.where(loud, idx, torch.full_like(peak, -1.0)).max(dim=1, keepdim=True).values
    return (idx <= last).float()

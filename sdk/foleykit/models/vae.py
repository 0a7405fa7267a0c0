"""Conditional VAE for one-shot effects. Only the decoder is exported; the encoder exists to
train it. A seed gives z through :func:`foleykit.models.common.seed_noise`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .common import FeatureStats
from .decoder import ClipDecoder

__all__ = ["VAEConfig", "ConditionalVAE"]


@dataclass
class VAEConfig:
    z_dim: int = 16
    channels: int = 64
    enc_channels: int = 64
    base_frames: int = 16
    kernel: int = 5
    beta: float = 0.01  # small: a few hundred clips, reconstruction matters more than a tidy prior
    alive_weight: float = 0.5


class ConditionalVAE(nn.Module):
    """``encode(log_mel (B, n_mels, T), controls (B, C)) -> (mu, logvar) (B, z_dim)``;
    ``decode(z, controls) -> (log_mel (B, n_mels, T), alive_logits (B, T))``."""

    family = "vae"

    def __init__(self, c_dim: int, n_mels: int = 80, frames: int = 128, log_floor: float = 1e-5,
                 config: VAEConfig = VAEConfig()) -> None:
        super().__init__()
        self.config = config
        self.stats = FeatureStats(log_floor)
        self.decoder = ClipDecoder(config.z_dim, c_dim, n_mels, frames, config.channels,
                                   config.base_frames, config.kernel, self.stats)
        ch = config.enc_channels
        self.encoder = nn.Sequential(
            nn.Conv1d(n_mels + 1, ch, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(ch, ch, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(ch, ch, 5, stride=2, padding=2), nn.LeakyReLU(0.2))
        self.to_latent = nn.Linear(ch + c_dim, 2 * config.z_dim)

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    def encode(self, mel: torch.Tensor, alive: torch.Tensor, controls: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(torch.cat([self.stats.normalize(mel), alive.unsqueeze(1)], dim=1))
        mu, logvar = self.to_latent(torch.cat([h.mean(dim=2), controls], 1)).chunk(2, dim=1)
        return mu, logvar.clamp(-8.0, 4.0)

    def decode(self, z: torch.Tensor, controls: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(z, controls)

    forward = decode

    def loss(self, mel: torch.Tensor, alive: torch.Tensor, controls: torch.Tensor,
             generator: torch.Generator = None) -> Tuple[torch.Tensor, Dict[str, float]]:
        """Training loss for a batch; ``alive`` is the 0/1 target ``(B, T)``."""
        mu, logvar = self.encode(mel, alive, controls)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        rec, alive_logits = self.decode(z, controls)
        l_rec = F.l1_loss(rec, mel) + F.mse_loss(rec, mel)
        l_alive = F.binary_cross_entropy_with_logits(alive_logits, alive)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
        total = l_rec + self.config.alive_weight * l_alive + self.config.beta * kl
        return total, {"loss": total.item(), "rec": l_rec.item(), "alive": l_alive.item(),
                       "kl": kl.item()}

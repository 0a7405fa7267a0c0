"""What a run shows while it trains: a preview spectrogram PNG and WAV per interval (through
the same :func:`foleykit.dsp.synthesize` the runtime uses) and a loss-curve PNG."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from .. import dsp
from ..models import seed_noise
from .config import TrainConfig

__all__ = ["sample_mel", "write_preview", "write_loss_curve"]


@torch.no_grad()
def sample_mel(model, controls: np.ndarray, cfg: TrainConfig, seed: int = 0,
               frames: int = 188) -> np.ndarray:
    """One log-mel ``(n_mels, frames)`` from ``model``: a one-shot cut where its alive head
    says the sound ends, or ``frames`` streamed frames (1 s) of an ambience from silence."""
    model.eval()
    c = torch.from_numpy(controls[None].astype(np.float32))
    if model.family == "transformer":
        frame, state, out = model.silence(), model.initial_state(), []
        for k in range(frames):
            noise = torch.from_numpy(seed_noise(seed, model.n_mels, stream=k))[None]
            frame, state = model.step(frame, c, noise, state)
            out.append(frame[0].numpy())
        mel = np.stack(out, axis=1)
    else:
        z = torch.from_numpy(seed_noise(seed, model.z_dim))[None]
        mel, alive = model.decode(z, c)
        mel, alive = mel[0].numpy(), alive[0].numpy()
        on = np.nonzero(alive > 0)[0]
        mel = mel[:, : max(int(on[-1]) + 1 if len(on) else 1, 4)]
    model.train()
    return np.ascontiguousarray(mel, np.float32)


def write_preview(model, controls: np.ndarray, cfg: TrainConfig, out: Path, step: int) -> Path:
    """``out/previews/step_<step>.png`` and ``.wav``; returns the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import soundfile as sf

    out = Path(out) / "previews"
    out.mkdir(parents=True, exist_ok=True)
    mel = sample_mel(model, controls, cfg)
    wav = dsp.synthesize(mel, kind="log_mel", method="pghi", sr=cfg.sample_rate, n_fft=cfg.n_fft,
                         hop=cfg.hop, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    peak = float(np.max(np.abs(wav))) if wav.size else 0.0
    if peak > 0.99:  # an untrained model can be loud; the preview must not clip
        wav = wav * (0.99 / peak)
    stem = out / f"step_{step:07d}"
    sf.write(str(stem) + ".wav", wav, int(cfg.sample_rate), subtype="FLOAT")
    fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
    ax.imshow(mel, origin="lower", aspect="auto", cmap="magma")
    ax.set_title(f"{cfg.model} step {step}")
    ax.set_xlabel("frame")
    ax.set_ylabel("mel band")
    fig.tight_layout()
    fig.savefig(str(stem) + ".png")
    plt.close(fig)
    return Path(str(stem) + ".png")


def write_loss_curve(history: List[Dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
    keys = sorted({k for h in history for k in h if k != "step"})
    for k in keys:
        pts = [(h["step"], h[k]) for h in history if k in h]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], label=k)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if keys:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(str(path))
    plt.close(fig)

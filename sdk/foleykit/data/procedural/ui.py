"""Interface sounds: click, hover, confirm, error. Synthetic by nature - short tones with
simple spectra - so they double as pitch references: ``pitch`` transposes every frequency by
``2 ** (pitch / 12)``, and the strongest partial of each kind is its fundamental.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from .noise import noise_burst
from .schema import Category, Control
from .synth import finish, spawn_rngs

__all__ = ["KINDS", "CATEGORIES"]


def _tone(n: int, sr: float, t0: float, f: float, partials, attack: float, hold: float,
          decay: float, glide: float = 0.0) -> np.ndarray:
    """A note at ``t0``: harmonics ``k`` with amplitudes ``partials[k-1]`` (partials above
    0.45 sr are left out), a linear attack, a flat hold and an exponential decay; the pitch
    glides by the ratio ``1 + glide`` over the note."""
    y = np.zeros(n)
    i = int(round(t0 * sr))
    m = min(n - i, int((attack + hold + 6.0 * decay) * sr))
    if m <= 0:
        return y
    t = np.arange(m) / sr
    inst = f * (1.0 + glide * np.minimum(t / (attack + hold + decay), 1.0))
    phase = 2 * np.pi * np.cumsum(inst) / sr
    x = sum(a * np.sin(k * phase) for k, a in enumerate(partials, 1)
            if k * f * (1 + glide) < 0.45 * sr)
    env = np.minimum(1.0, t / attack) * np.exp(-np.maximum(t - attack - hold, 0.0) / decay)
    y[i:i + m] = x * env
    return y


def _click(r, n, sr, ratio):
    y = _tone(n, sr, 0.005, 2200.0 * ratio, (1.0,), 0.0003, 0.0, 0.004)
    return y + 0.3 * noise_burst(r, n, sr, 0.005, 0.0008, 3000.0, 9000.0, attack=0.0002)


def _hover(r, n, sr, ratio):
    return _tone(n, sr, 0.005, 1100.0 * ratio, (1.0, 0.15), 0.008, 0.0, 0.04, glide=0.03)


def _confirm(r, n, sr, ratio):
    bellish = (1.0, 0.25, 0.1)
    return (_tone(n, sr, 0.005, 880.0 * ratio, bellish, 0.003, 0.0, 0.12)
            + _tone(n, sr, 0.095, 1320.0 * ratio, bellish, 0.003, 0.0, 0.15))


def _error(r, n, sr, ratio):
    buzz = (1.0, 0.0, 0.33, 0.0, 0.2, 0.0, 0.14, 0.0, 0.11)  # square-ish: odd harmonics
    return (_tone(n, sr, 0.005, 330.0 * ratio, buzz, 0.005, 0.08, 0.03)
            + _tone(n, sr, 0.13, 247.0 * ratio, buzz, 0.005, 0.1, 0.04))


KINDS = {"click": (_click, -5.0), "hover": (_hover, -8.0), "confirm": (_confirm, -4.0),
         "error": (_error, -4.0)}


def render_ui(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    r_detune, r_noise = spawn_rngs(seq, 2)
    # Seeds vary a UI sound only slightly (+-15 cents, +-0.5 dB): variations, not new sounds.
    ratio = 2.0 ** ((c["pitch"] + r_detune.uniform(-0.15, 0.15)) / 12.0)
    make, level = KINDS[c["kind"]]
    return finish(make(r_noise, n, sr, ratio), level + r_detune.uniform(-0.5, 0.5), sr)


CATEGORIES = (
    Category(
        "ui", "interface sounds: click, hover, confirm, error",
        (
            Control.categorical("kind", tuple(KINDS), "click", "which interface event"),
            Control.continuous("pitch", -12.0, 12.0, 0.0,
                               "transposition: higher is higher pitched", "semitones"),
        ),
        render_ui, default_duration=0.5),
)

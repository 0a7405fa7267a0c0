"""Character movement one-shots: jump, land, swing, cloth. Each is a few layers of the
same materials - body thuds (low damped modes under a low-passed burst), shoe scuffs
(band-passed friction noise), cloth rustle (fluttering high-passed noise with fabric
crackle grains) and air (a band of noise sweeping through a moving centre frequency).
Intensity scales level, speed and brightness.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from .noise import band, bell, colored_noise, noise_burst, shaped_noise
from .schema import Category, Control
from .synth import finish, grain_shower, modal, spawn_rngs

__all__ = ["ACTIONS", "CATEGORIES"]


def _add(y: np.ndarray, x: np.ndarray, sr: float, t0: float) -> None:
    i = int(round(t0 * sr))
    if i < len(y):
        y[i:i + len(x)] += x[:len(y) - i]


def _alpha(t: np.ndarray, rise: float) -> np.ndarray:
    """Alpha-function envelope peaking at 1 when ``t == rise``."""
    t = np.maximum(t, 0.0)
    return (t / rise) * np.exp(1.0 - t / rise)


def _thump(rng, n, sr, t0, f0, amp):
    """A body hitting the ground: low modes plus a low-passed burst."""
    y = np.zeros(n)
    i = int(round(t0 * sr))
    if i < n:
        freqs = f0 * np.array([1.0, 1.9, 3.1])
        y[i:] = modal(n - i, sr, freqs, [0.15, 0.08, 0.05], [1.0, 0.5, 0.25])
    y /= np.max(np.abs(y)) or 1.0
    return amp * (0.7 * y + noise_burst(rng, n, sr, t0, 0.02, 30.0, 300.0, attack=0.003))


def _rustle(rng, n, sr, t0, length, amp, intensity):
    """Cloth: fluttering high-passed noise under an envelope, with crackle grains."""
    m = int(3.0 * length * sr)  # the alpha envelope is down 50 dB by then
    if m <= 0:
        return np.zeros(n)
    tt = np.arange(m) / sr
    flutter = np.repeat(rng.lognormal(0.0, 0.7, m // 256 + 1), 256)[:m]
    x = colored_noise(rng, m, sr, lambda f: band(f, 1500.0 + 1500.0 * intensity, 10000.0, 1.0))
    x *= flutter * _alpha(tt, length / 3.0) * 0.3
    y = np.zeros(n)
    _add(y, x, sr, t0)
    y += grain_shower(rng, n, sr, t0, length / 4.0, 40 + 160 * intensity, (3000.0, 10000.0),
                      (0.0005, 0.002), (0.02, 0.25))
    return amp * y


def _whoosh(rng, n, sr, t0, width, f_centre, amp):
    """A swept band of noise: bell envelope of ``width`` s at ``t0``, centre frequency
    rising to ``f_centre`` at the peak and falling after (the Doppler of the pass)."""
    def mask(t, f):
        u = (t - t0) / width
        env = 1.0 / (1.0 + u * u) ** 1.5
        fc = f_centre * (1.0 - 0.25 * np.tanh(u)) * (0.6 + 0.4 * env)
        return env * bell(f, fc, 1.2)
    return amp * shaped_noise(rng, n, sr, mask)


def _jump(r, n, sr, i):
    y = noise_burst(r[0], n, sr, 0.02, 0.05 + 0.03 * (1 - i), 700.0, 4000.0 + 3000.0 * i,
                    attack=0.03)
    y += _thump(r[1], n, sr, 0.05, 80.0 + 30.0 * i, 0.3 + 0.3 * i)
    y += _rustle(r[2], n, sr, 0.06, 0.3, 0.6, i)
    return y


def _land(r, n, sr, i):
    f0 = r[1].uniform(55.0, 90.0)
    y = _thump(r[1], n, sr, 0.01, f0, 1.0)
    y += _thump(r[1], n, sr, 0.01 + r[1].uniform(0.005, 0.03), f0 * 1.1, 0.7)
    y += 0.3 * noise_burst(r[0], n, sr, 0.02, 0.04, 600.0, 3000.0 + 3000.0 * i, attack=0.01)
    y += _rustle(r[2], n, sr, 0.04, 0.3, 0.5, i)
    y += grain_shower(r[3], n, sr, 0.02, 0.01, 25 * i * i, (2000.0, 6000.0), (0.01, 0.05),
                      (0.05, 0.4))  # loose gear rattling on a hard landing
    return y


def _swing(r, n, sr, i):
    width = 0.09 - 0.05 * i
    y = _whoosh(r[0], n, sr, 0.05 + 2.5 * width, width, 700.0 * (1.0 + 2.0 * i), 1.0)
    y += _rustle(r[2], n, sr, 0.02, 0.25, 0.25, i)
    return y


def _cloth(r, n, sr, i):
    return (_rustle(r[0], n, sr, 0.02, 0.45 - 0.15 * i, 1.0, i)
            + _rustle(r[1], n, sr, 0.15 + r[1].uniform(0.0, 0.1), 0.3, 0.6, i))


ACTIONS = {"jump": _jump, "land": _land, "swing": _swing, "cloth": _cloth}


def render_character(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    i = c["intensity"]
    y = ACTIONS[c["action"]](spawn_rngs(seq, 4), n, sr, i)
    return finish(y, -16.0 + 15.0 * i ** 0.7, sr)


CATEGORIES = (
    Category(
        "character_action", "a character's movement: jump, land, swing, cloth",
        (
            Control.categorical("action", tuple(ACTIONS), "land", "which movement"),
            Control.continuous("intensity", 0.0, 1.0, 0.5,
                               "effort of the movement: louder, faster, brighter"),
        ),
        render_character, default_duration=0.8),
)

"""Sounds made of moving air: ``whoosh`` (an object passing by) and ``explosion`` (a blast
heard at a distance).

A whoosh is turbulence noise in a band whose level follows the object's distance (loudest
at the closest point, then falling steeply: aerodynamic noise is dipole-like) and whose
centre rises with speed and falls with size, pitched up on approach and down after
(Doppler). An explosion is a blast pulse, a
roaring low-frequency body and a shower of debris crackle, then the path to the listener:
spreading loss, air absorption (which eats high frequencies faster with distance) and a
longer, duller tail from the ground and reflections.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from .noise import band, bell, fft_filter, shaped_noise
from .schema import Category, Control
from .synth import finish, grain_shower, spawn_rngs

__all__ = ["CATEGORIES", "air_absorption_db", "path_gain", "explosion_level", "whoosh_level"]


def render_whoosh(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    speed, size = c["speed"], c["size"]
    r_shape, r_noise, r_body = spawn_rngs(seq, 3)
    width = float(np.clip(0.12 * np.sqrt(size + 0.3) * (12.0 / speed) ** 0.6, 0.03, 0.35))
    width *= r_shape.uniform(0.85, 1.15)
    t_pass = min(0.03 + 2.5 * width, 0.6 * n / sr)
    f_c = float(np.clip(650.0 * (speed / 12.0) ** 0.7 * (0.5 / size) ** 0.4, 120.0, 0.3 * sr))
    f_c *= r_shape.uniform(0.85, 1.15)
    doppler = min(0.45, speed / 340.0 * 4.0)  # exaggerated, as film whooshes are
    octaves = 0.8 + 0.3 * np.log2(1.0 + size)

    def mask(t, f):
        u = (t - t_pass) / width
        env = 1.0 / (1.0 + u * u) ** 2
        fc = f_c * (1.0 - doppler * np.tanh(u)) * (0.7 + 0.3 * env)
        return env * bell(f, fc, octaves)

    y = shaped_noise(r_noise, n, sr, mask)
    # Large objects push a low, rumbling pressure wave ahead of the band.
    body = shaped_noise(r_body, n, sr, lambda t, f: band(f, 25.0, 180.0, 1.0)
                        / (1.0 + ((t - t_pass) / (1.5 * width)) ** 2) ** 2)
    y += body * min(1.0, size) * 0.8 * np.std(y) / (np.std(body) or 1.0)
    return finish(y, whoosh_level(speed), sr)


def whoosh_level(speed: float) -> float:
    """Peak dBFS of a whoosh at ``speed`` m/s: -2 dB at 30 m/s, 14 dB per decade slower
    (capped at -1 dB)."""
    return min(-1.0, -2.0 + 14.0 * np.log10(speed / 30.0))


def air_absorption_db(f: np.ndarray, distance: float) -> np.ndarray:
    """Attenuation in dB at ``f`` Hz after ``distance`` m of air: 5 dB/km at 1 kHz rising
    as f^1.6, a rough fit to ISO 9613-1 (20 C, 50 % humidity); capped at 90 dB."""
    return np.minimum(90.0, distance * 0.005 * (np.maximum(f, 0.0) / 1000.0) ** 1.6)


def path_gain(f: np.ndarray, distance: float) -> np.ndarray:
    """Amplitude gain of the path to a listener ``distance`` m away at ``f`` Hz: air
    absorption and, lumped into a gentle low-pass, the excess attenuation of highs by the
    ground and turbulence that makes distant blasts dull booms."""
    corner = 12000.0 * (10.0 / distance) ** 0.6
    return 10.0 ** (-air_absorption_db(f, distance) / 20.0) / np.sqrt(1.0 + (f / corner) ** 2)


def explosion_level(size: float, distance: float) -> float:
    """Peak dBFS: -1 dB for the largest blast at 5 m, 10 dB quieter per decade of distance
    (half the 20 dB of spherical spreading, so a kilometre away is still usable in a mix)."""
    return -1.0 - 2.0 * (1.0 - size) - 10.0 * np.log10(distance / 5.0)


def render_explosion(seq: np.random.SeedSequence, n: int, sr: float, c: Dict) -> np.ndarray:
    size, dist = c["size"], c["distance"]
    r_body, r_crack, r_debris, r_tail = spawn_rngs(seq, 4)
    t0 = 0.02
    decay = (0.35 + 1.2 * size) * (1.0 + dist / 800.0)
    f_body = 300.0 * (1.0 - 0.6 * size)
    grid = np.arange(int(n / sr * 20.0) + 2) / 20.0
    wobble = r_body.lognormal(0.0, 0.25, grid.size)  # the roar's slow irregularity

    def onset(t, tau):
        u = np.maximum(t - t0, 0.0)
        return np.where(t >= t0, np.minimum(1.0, u / 0.004) * np.exp(-u / tau), 0.0)

    air = lambda f: path_gain(f, dist)  # noqa: E731
    # The body: a low roar, lower and longer for a larger charge.
    body = shaped_noise(r_body, n, sr, lambda t, f: onset(t, decay) * np.interp(t, grid, wobble)
                        / (1.0 + (f / f_body) ** 1.5) * band(f, 20.0, np.inf, 2.0), n_fft=2048)
    body = fft_filter(body, sr, air)
    ref = float(np.max(np.abs(body))) or 1.0
    # The crack of the shock front and the sizzle after it, the debris settling, and far
    # away a late, dull tail from the ground and nearby surfaces: all relative to the body.
    crack = shaped_noise(r_crack, n, sr, lambda t, f: onset(t, 0.12) * band(f, 500.0, 8000.0, 1.0))
    i0, width = int(t0 * sr), int((0.002 + 0.006 * size) * sr)
    if i0 + width < n:  # the blast front: one sharp positive pressure pulse
        crack[i0:i0 + width] += 2.0 * np.max(np.abs(crack)) * np.hanning(width)
    crack *= (0.6 - 0.4 * size) / (np.max(np.abs(crack)) or 1.0)
    debris = grain_shower(r_debris, n, sr, t0 + 0.05, 0.15 + 0.3 * size, 60 + 200 * size,
                          (800.0, 7000.0), (0.002, 0.02), (0.01, 0.3))
    debris *= 0.25 / (np.max(np.abs(debris)) or 1.0)
    tail = shaped_noise(r_tail, n, sr, lambda t, f: np.where(
        t > t0 + 0.1, np.exp(-np.maximum(t - t0 - 0.1, 0.0) / (1.5 * decay)), 0.0)
        / (1.0 + f / 200.0), n_fft=2048)
    tail *= 0.4 * min(1.0, dist / 400.0) / (np.max(np.abs(tail)) or 1.0)
    y = body + ref * fft_filter(crack + debris + tail, sr, air)
    return finish(y, explosion_level(size, dist), sr, fade=0.1, ref=ref)


CATEGORIES = (
    Category(
        "whoosh", "an object moving fast past the listener",
        (
            Control.continuous("speed", 1.0, 40.0, 15.0,
                               "how fast it moves: louder, brighter, shorter", "m/s", log=True),
            Control.continuous("size", 0.05, 2.0, 0.5,
                               "how big it is: lower, wider, longer", "m", log=True),
        ),
        render_whoosh, default_duration=1.0),
    Category(
        "explosion", "a blast heard from a distance",
        (
            Control.continuous("size", 0.0, 1.0, 0.5,
                               "charge size, from a grenade to a demolition: longer, lower, "
                               "louder"),
            Control.continuous("distance", 5.0, 2000.0, 15.0,
                               "distance to the listener: quieter, duller, longer tail", "m",
                               log=True),
        ),
        render_explosion, default_duration=4.0),
)

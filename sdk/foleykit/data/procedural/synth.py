"""Synthesis building blocks shared by the generators: seeding, damped modes and grains
(modal synthesis and particle models), overlap-add of events, and the one-shot output
stage. Noise and filters live in :mod:`.noise`.

Work arrays are float64 unless a comment says otherwise; outputs are float32.
"""
from __future__ import annotations

import zlib
from typing import List, Optional

import numpy as np

__all__ = [
    "LN1000", "seed_sequence", "spawn_rngs", "log_uniform", "db", "damped_sine",
    "damped_sines", "modal", "contact_spectrum", "scatter", "grain_shower", "bubble_grains",
    "OverlapAdd", "soft_limit", "finish",
]

LN1000 = float(np.log(1000.0))  # exp(-LN1000 * t / t60) falls 60 dB in t60 seconds


# --- seeding ----------------------------------------------------------------------------

def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """The root of every random draw of one sound: (seed, category name). Including the name
    keeps seed 0 of rain and seed 0 of fire unrelated."""
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))])


def spawn_rngs(seq: np.random.SeedSequence, k: int) -> List[np.random.Generator]:
    """``k`` independent generators, one per layer of a sound, so that one layer drawing
    more numbers (say, more grains at a higher intensity) leaves the others unchanged: the
    same seed with another control value is the same object, played differently."""
    return [np.random.default_rng(s) for s in seq.spawn(k)]


def log_uniform(rng: np.random.Generator, low: float, high: float, size=None):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def db(x: float) -> float:
    """Decibels to a linear amplitude factor."""
    return float(10.0 ** (x / 20.0))


# --- modes and grains ---------------------------------------------------------------------

_BLOCK = 256  # damped sinusoids are built as (p^i for i < _BLOCK) x (p^(j*_BLOCK))


def _powers(s: np.ndarray, length: int) -> np.ndarray:
    """``exp(s[:, None] * arange(length))`` as complex64 ``(m, length)``, with one complex
    multiply per sample instead of an exp and a sin (exact to float32 over seconds)."""
    nb = -(-length // _BLOCK)
    inner = np.exp(s[:, None] * np.arange(_BLOCK)).astype(np.complex64)             # (m, B)
    outer = np.exp(s[:, None] * (np.arange(nb) * _BLOCK)).astype(np.complex64)      # (m, nb)
    return (outer[:, :, None] * inner[:, None, :]).reshape(len(s), nb * _BLOCK)[:, :length]


def damped_sines(length: int, sr: float, freqs, t60, amps, phases=None,
                 taper: bool = True) -> np.ndarray:
    """Grains: row k is ``amps[k] * exp(-ln(1000) t / t60[k]) * sin(2 pi freqs[k] t +
    phases[k])`` for ``length`` samples, float32 ``(m, length)``. ``taper`` fades the last
    quarter of each row so a truncated grain does not end in a click."""
    f = np.asarray(freqs, np.float64).reshape(-1)
    m = f.size
    if m == 0 or length <= 0:
        return np.zeros((m, max(length, 0)), np.float32)
    f = np.minimum(f, 0.49 * sr)
    decay = LN1000 / (np.broadcast_to(np.asarray(t60, np.float64), (m,)) * sr)
    ph = np.zeros(m) if phases is None else np.broadcast_to(np.asarray(phases, np.float64), (m,))
    z = _powers(-decay + 2j * np.pi * f / sr, length)
    start = (np.broadcast_to(np.asarray(amps, np.float64), (m,)) * np.exp(1j * ph))
    y = (z * start.astype(np.complex64)[:, None]).imag
    if taper and length >= 8:
        q = length // 4
        y[:, length - q:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, q))).astype(np.float32)
    return y


def damped_sine(n: int, sr: float, freq: float, t60: float, amp: float = 1.0,
                phase: float = 0.0) -> np.ndarray:
    """One damped mode, ``(n,)`` float64, computed only while it is above -100 dB."""
    y = np.zeros(n)
    m = min(n, int(t60 * 100.0 / 60.0 * sr) + 1)
    if m > 0 and 0 < freq < 0.49 * sr:
        y[:m] = damped_sines(m, sr, [freq], [t60], [amp], [phase], taper=False)[0]
    return y


def modal(n: int, sr: float, freqs, t60, amps, phases=None) -> np.ndarray:
    """Impulse response of a bank of modes, ``(n,)``: the sum of :func:`damped_sine`. Modes
    at or above 0.49 ``sr`` are dropped (they would alias)."""
    freqs = np.asarray(freqs, np.float64)
    t60 = np.broadcast_to(np.asarray(t60, np.float64), freqs.shape)
    amps = np.broadcast_to(np.asarray(amps, np.float64), freqs.shape)
    phases = np.zeros_like(freqs) if phases is None else np.asarray(phases, np.float64)
    y = np.zeros(n)
    for f, t, a, ph in zip(freqs, t60, amps, phases):
        if a != 0.0:
            y += damped_sine(n, sr, f, t, a, ph)
    return y


def contact_spectrum(f: np.ndarray, tau: float) -> np.ndarray:
    """Magnitude spectrum of a half-sine contact force (1 at DC): how strongly a contact lasting
    ``tau`` seconds excites a mode at ``f``. Shorter contacts (harder, faster) reach
    higher, which is why a harder hit sounds brighter."""
    u = 2.0 * np.asarray(f, np.float64) * tau
    near = np.abs(u - 1.0) < 1e-6
    g = np.abs(np.cos(np.pi * u / 2.0)) / np.where(near, 1.0, np.abs(1.0 - u * u))
    return np.where(near, np.pi / 4.0, g)


def scatter(n: int, starts, grains: np.ndarray) -> np.ndarray:
    """``(n,)``: row k of ``grains (m, L)`` added at sample ``starts[k]``; whatever falls
    outside ``[0, n)`` is dropped."""
    starts = np.asarray(starts, np.int64)
    if starts.size == 0:
        return np.zeros(n)
    idx = starts[:, None] + np.arange(grains.shape[1])
    keep = (idx >= 0) & (idx < n)
    # (bincount of empty weights comes back as int64, hence the cast)
    y = np.bincount(idx[keep], weights=grains[keep].astype(np.float64), minlength=n)
    return y[:n].astype(np.float64, copy=False)


def grain_shower(rng: np.random.Generator, n: int, sr: float, t0: float, rise: float,
                 count: float, f: tuple, t60: tuple, amp: tuple = (0.05, 1.0)) -> np.ndarray:
    """``(n,)``: about ``count`` grain collisions (PhISEM-style) whose rate follows an alpha
    function peaking ``rise`` s after ``t0`` - pressure building and releasing under a sole,
    debris settling. Each grain is a damped sine with frequency, T60 and amplitude drawn
    log-uniformly from the ``(low, high)`` ranges ``f``, ``t60`` and ``amp``."""
    k = int(rng.poisson(count))
    times = t0 + rng.gamma(2.0, rise, k)
    dec = log_uniform(rng, *t60, k)
    length = int(min(0.06, 2.0 * t60[1]) * sr)
    g = damped_sines(length, sr, log_uniform(rng, *f, k), dec, log_uniform(rng, *amp, k),
                     rng.uniform(0, 2 * np.pi, k))
    return scatter(n, np.round(times * sr).astype(np.int64), g)


def bubble_grains(length: int, sr: float, f0, t60, amps, rise) -> np.ndarray:
    """Resonating air bubbles (Minnaert; van den Doel 2005): rows of damped sines whose
    pitch rises as ``f0 * (1 + rise * t)`` while they ring, float32 ``(m, length)`` with a
    tapered end."""
    f0 = np.minimum(np.asarray(f0, np.float64), 0.3 * sr)[:, None]
    if f0.size == 0:
        return np.zeros((0, length), np.float32)
    t = (np.arange(length) / sr)[None, :]
    rise = np.asarray(rise, np.float64)[:, None]
    phase = (2 * np.pi * f0 * (t + 0.5 * rise * t * t)).astype(np.float32)
    env = np.exp((-LN1000 / np.asarray(t60, np.float64)[:, None] * t).astype(np.float32))
    y = np.sin(phase) * env * np.asarray(amps, np.float32)[:, None]
    q = length // 4
    y[:, length - q:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, q))).astype(np.float32)
    return y


# --- events longer than a block ---------------------------------------------------------

class OverlapAdd:
    """Events longer than the current block: rendered once, added at an offset from the
    stream's current position, and handed out block by block."""

    def __init__(self) -> None:
        self._buf = np.zeros(0)

    def _grow(self, length: int) -> None:
        if length > len(self._buf):
            self._buf = np.concatenate((self._buf, np.zeros(length - len(self._buf))))

    def add(self, start: int, x: np.ndarray) -> None:
        self._grow(start + len(x))
        self._buf[start:start + len(x)] += x

    def add_grains(self, starts: np.ndarray, grains: np.ndarray) -> None:
        """Adds row k of ``grains (m, L)`` at ``starts[k]`` (non-negative)."""
        if len(starts) == 0:
            return
        m, length = grains.shape
        idx = (np.asarray(starts, np.int64)[:, None] + np.arange(length)).reshape(-1)
        total = int(idx.max()) + 1
        self._grow(total)
        self._buf[:total] += np.bincount(idx, weights=grains.reshape(-1).astype(np.float64),
                                         minlength=total)

    def take(self, n: int) -> np.ndarray:
        self._grow(n)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


# --- output stage -------------------------------------------------------------------------

_KNEE = 0.9


def soft_limit(x: np.ndarray) -> np.ndarray:
    """Identity below 0.9, a tanh knee above: the output magnitude stays below 1.0 whatever
    the input."""
    a = np.abs(x)
    over = a > _KNEE
    if np.any(over):
        x = x.copy()
        x[over] = np.sign(x[over]) * (_KNEE + (1.0 - _KNEE) * np.tanh((a[over] - _KNEE) /
                                                                     (1.0 - _KNEE)))
    return x


def finish(x: np.ndarray, peak_db: float, sr: float, fade: float = 0.01,
           ref: Optional[float] = None) -> np.ndarray:
    """A one-shot's output stage: scales ``x`` to peak at ``peak_db`` dBFS (the generator's
    controls set that level), fades the last ``fade`` seconds in case the clip was cut
    short, soft-limits and converts to float32.

    With ``ref``, the scale puts ``ref`` (the peak of the sound's body, say, before a
    contact click was added) at ``peak_db`` instead, so a control that adds a sharp
    transient does not turn the rest of the sound down; the total peak is then capped at
    -1 dBFS."""
    x = np.nan_to_num(np.asarray(x, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak < 1e-12:
        return np.zeros(len(x), np.float32)
    if ref is None or ref < 1e-12:
        x = x * (db(min(peak_db, -0.5)) / peak)
    else:
        x = x * min(db(min(peak_db, -0.5)) / ref, db(-1.0) / peak)
    m = min(len(x) // 4, int(fade * sr))
    if m > 1:
        x[-m:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, m))
    return soft_limit(x).astype(np.float32)

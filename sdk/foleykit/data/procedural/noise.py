"""Noise and filtering for the generators: FFT-domain filters and coloured noise for
one-shots, and the streaming pieces the ambiences are made of - noise with a time-varying
spectrum (random-phase overlap-add) and slow random modulation.

Pure numpy on purpose: ``scipy.signal`` alone takes over a second to import, and a fixed
filter here is an FFT-domain gain and a moving one a per-frame spectral mask, neither of
which needs a recursive filter.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

__all__ = [
    "fast_len", "convolve", "fft_filter", "colored_noise", "bell", "band", "noise_burst",
    "shaped_noise", "ShapedNoise", "SlowNoise", "upsample",
]


def fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (a fast FFT size)."""
    best = 1 << max(0, int(n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def convolve(x: np.ndarray, h: np.ndarray, n: Optional[int] = None) -> np.ndarray:
    """Linear convolution ``x * h`` through the FFT, first ``n`` samples (default
    ``len(x)``)."""
    n = len(x) if n is None else n
    size = fast_len(len(x) + len(h) - 1)
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)
    out = np.zeros(n)
    out[:min(n, size)] = y[:n]
    return out


def fft_filter(x: np.ndarray, sr: float, gain: Callable[[np.ndarray], np.ndarray],
               pad: int = 4096) -> np.ndarray:
    """Zero-phase filter: multiplies the spectrum of ``x`` by ``gain(freqs_hz)``. The gains
    used here are smooth in frequency, so their impulse responses fit in ``pad`` samples."""
    size = fast_len(len(x) + pad)
    g = gain(np.fft.rfftfreq(size, 1.0 / sr))
    return np.fft.irfft(np.fft.rfft(x, size) * g, size)[:len(x)]


def colored_noise(rng: np.random.Generator, n: int, sr: float,
                  gain: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Gaussian noise ``(n,)`` whose amplitude spectrum is ``gain(freqs_hz)`` (unit variance
    where the gain is 1)."""
    return fft_filter(rng.standard_normal(n), sr, gain)


def bell(f: np.ndarray, centre: np.ndarray, octaves: float) -> np.ndarray:
    """Gaussian band in log-frequency: 1 at ``centre``, 1/e at +-``octaves``."""
    r = np.log2(np.maximum(f, 1.0) / centre) / octaves
    return np.exp(-r * r)


def band(f: np.ndarray, low: float, high: float, order: float = 2.0) -> np.ndarray:
    """Butterworth-like band-pass magnitude (``low`` may be 0 for a low-pass,
    ``high`` inf for a high-pass)."""
    g = 1.0 / np.sqrt(1.0 + (f / high) ** (2 * order)) if np.isfinite(high) else np.ones_like(f)
    if low > 0:
        r = np.maximum(f, 1e-3) / low
        g = g * r ** order / np.sqrt(1.0 + r ** (2 * order))
    return g


def noise_burst(rng: np.random.Generator, n: int, sr: float, t0: float, decay: float,
                lo: float, hi: float, attack: float = 0.0005) -> np.ndarray:
    """A band-limited noise burst at ``t0`` with exponential decay (peak 1)."""
    m = int(min(8 * decay + attack, 0.3) * sr)
    t = np.arange(m) / sr
    x = colored_noise(rng, m, sr, lambda f: band(f, lo, hi, 1.5))
    x *= np.minimum(1.0, t / attack) * np.exp(-t / decay)
    x /= np.max(np.abs(x)) or 1.0
    y = np.zeros(n)
    i = int(round(t0 * sr))
    if i < n:
        y[i:i + m] = x[:n - i]
    return y


def shaped_noise(rng: np.random.Generator, n: int, sr: float,
                 mask: Callable[[np.ndarray, np.ndarray], np.ndarray],
                 n_fft: int = 1024) -> np.ndarray:
    """One-shot form of :class:`ShapedNoise`: ``(n,)`` noise whose amplitude spectrum at
    time ``t`` is ``mask(times[:, None], freqs[None, :])`` (seconds, Hz; broadcasting to
    ``(frames, bins)``), with frames centred every ``n_fft / 4`` samples from t = 0."""
    gen = ShapedNoise(rng, sr, n_fft)
    frames = -(-(n + n_fft // 2) // gen.hop) + 1
    times = np.arange(frames) * gen.hop / sr
    g = np.broadcast_to(mask(times[:, None], gen.freqs[None, :]), (frames, len(gen.freqs)))
    y = np.concatenate((gen.render(np.ascontiguousarray(g, np.float64)), gen._tail))
    return y[n_fft // 2:n_fft // 2 + n]


class ShapedNoise:
    """Noise with a time-varying spectrum, streamed: random-phase frames shaped by a gain
    mask and overlap-added with a Hann window at hop ``n_fft / 4`` (the window's squares
    sum to a constant there, so a constant mask gives stationary noise).

    ``render(mask)`` takes amplitude gains ``(frames, n_fft // 2 + 1)`` and returns
    ``frames * hop`` samples, continuing the previous call; a mask of ones gives unit
    variance white noise. ``freqs`` are the bin centres in Hz.
    """

    def __init__(self, rng: np.random.Generator, sr: float, n_fft: int = 1024):
        self.rng, self.n_fft, self.hop = rng, n_fft, n_fft // 4
        self.freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
        hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
        self._win = hann * np.sqrt(n_fft / 1.5)  # unit variance out for a mask of ones
        self._tail = np.zeros(n_fft - self.hop)

    def render(self, mask: np.ndarray) -> np.ndarray:
        frames, bins = mask.shape
        z = self.rng.standard_normal((frames, 2 * bins)).view(np.complex128)
        x = np.fft.irfft(z * (mask * np.sqrt(0.5)), self.n_fft, axis=1) * self._win
        h = self.hop
        out = np.zeros(frames * h + self.n_fft - h)
        out[:self.n_fft - h] += self._tail
        for j in range(4):
            out[j * h:j * h + frames * h] += x[:, j * h:(j + 1) * h].reshape(-1)
        self._tail = out[frames * h:].copy()
        return out[:frames * h]


class SlowNoise:
    """Smooth random modulation: a unit-variance Ornstein-Uhlenbeck process with time
    constant ``tau`` seconds, sampled once per ``hop`` samples and continued across calls."""

    def __init__(self, rng: np.random.Generator, tau: float, sr: float, hop: int):
        self.rng, self.hop = rng, hop
        self.a = float(np.exp(-hop / (tau * sr)))
        self.b = float(np.sqrt(1.0 - self.a * self.a))
        self.x = float(rng.standard_normal())

    def frames(self, m: int) -> np.ndarray:
        """The next ``m`` control-rate values."""
        e = self.rng.standard_normal(m) * self.b
        out = np.empty(m)
        x, a = self.x, self.a
        for i in range(m):  # m is one block's frames (tens); a loop beats building a filter
            x = a * x + e[i]
            out[i] = x
        self.x = x
        return out


def upsample(prev: float, frames: np.ndarray, hop: int) -> np.ndarray:
    """Linear ramps from ``prev`` through each of ``frames``, ``hop`` samples each."""
    start = np.concatenate(([prev], frames[:-1]))
    r = np.arange(1, hop + 1) / hop
    return (start[:, None] + (frames - start)[:, None] * r).reshape(-1)

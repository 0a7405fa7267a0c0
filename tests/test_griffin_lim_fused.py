"""The native fast Griffin-Lim runs each iteration as one fused pass (synthesis, envelope
normalisation and analysis group by group through a sliding window of the signal). These
tests hold it to the plain whole-array loop written out in Python: librosa's momentum form,
the same hashed random start, istft/stft from foleykit.dsp (numpy framing where the caller's
length does not give the spectrogram's frame count), for a few iterations, to 1e-4.

The cases cover the window sliding (signals longer than the window), frames reaching past the
signal (lengths shorter or longer than the frames give), signals too short for reflect
padding, and several n_fft/hop pairs, including hop = n_fft/2 and hops that do not divide
n_fft.
"""
from __future__ import annotations

import numpy as np
import pytest

from foleykit import dsp

RTOL = 1e-4
MOMENTUM = 0.99


def hashed_phase(seed: int, n_frames: int, bins: int) -> np.ndarray:
    """The native start phases (phase_gradient.hpp), ``(bins, frames)`` float64. uint64
    arrays wrap around like the C++ arithmetic."""
    u = np.uint64
    k = np.arange(bins, dtype=u)[:, None]
    t = np.arange(n_frames, dtype=u)[None, :]
    with np.errstate(over="ignore"):
        z = (np.array([seed], dtype=u) * u(0x9E3779B97F4A7C15) + t * u(0xBF58476D1CE4E5B9)
             + k * u(0x94D049BB133111EB) + u(0x2545F4914F6CDD1D))
        z = (z ^ (z >> u(30))) * u(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> u(27))) * u(0x94D049BB133111EB)
        z ^= z >> u(31)
    return (z >> u(40)).astype(np.float64) / 16777216.0 * 2.0 * np.pi - np.pi


def window(n_fft: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32).astype(np.float64)


def overlap_add(S: np.ndarray, n_fft: int, hop: int, synthesis: bool = False) -> np.ndarray:
    """Window-sum normalised overlap-add of every frame, the whole support (float64).
    Iterations divide wherever the envelope is not zero; the output divides by at least the
    synthesis floor (stft.hpp), which only matters past the signal."""
    F = S.shape[1]
    w = window(n_fft)
    frames = np.fft.irfft(S, n=n_fft, axis=0) * w[:, None]
    total = n_fft + hop * (F - 1)
    y, env = np.zeros(total), np.zeros(total)
    for t in range(F):
        y[t * hop:t * hop + n_fft] += frames[:, t]
        env[t * hop:t * hop + n_fft] += w * w
    if synthesis:
        min_env = min(np.sum(w[r::hop] ** 2) for r in range(hop))
        floor = max(0.5 * np.sum(w[n_fft // 2 + hop - 1::hop] ** 2), 1e-3 * min_env)
        return y / np.maximum(env, floor)
    return np.where(env > 1e-11, y / np.where(env > 1e-11, env, 1.0), 0.0)


def frames_of(x: np.ndarray, n_frames: int, n_fft: int, hop: int) -> np.ndarray:
    """rfft of n_frames windowed frames, frame t at x[t*hop:], ``(bins, frames)``."""
    idx = np.arange(n_frames)[None, :] * hop + np.arange(n_fft)[:, None]
    return np.fft.rfft(x[idx] * window(n_fft)[:, None], axis=0)


def reference_fgla(mag: np.ndarray, n_iter: int, n_fft: int, hop: int, length: int,
                   seed: int) -> np.ndarray:
    """Fast Griffin-Lim as a whole-array loop (librosa.griffinlim's update order)."""
    bins, F = mag.shape
    pad = n_fft // 2
    total = n_fft + hop * (F - 1)
    sig = min(length, total - pad)
    phi = hashed_phase(seed, F, bins)
    angles = np.exp(1j * phi)
    angles[0], angles[-1] = np.cos(phi[0]), np.cos(phi[-1])  # DC and Nyquist are real
    beta = MOMENTUM / (1.0 + MOMENTUM)
    rebuilt = np.zeros_like(angles)
    standard = sig > pad and 1 + length // hop == F
    for _ in range(n_iter):
        tprev = rebuilt
        S = (mag * angles).astype(np.complex64)
        if standard:  # the library's own istft/stft, as a caller would write the loop
            y = dsp.istft(S, n_fft, hop, length=length)
            rebuilt = dsp.stft(y, n_fft, hop).astype(np.complex128)
        elif sig > pad:  # the length-sample signal, reflect-padded
            y = np.zeros(length)
            y[:sig] = overlap_add(S, n_fft, hop)[pad:pad + sig]
            xp = np.pad(y, pad, mode="reflect")
            reach = (F - 1) * hop + n_fft  # frames past xp's end read it reflected again
            if reach > len(xp):
                xp = np.pad(xp, (0, reach - len(xp)), mode="reflect")
            rebuilt = frames_of(xp, F, n_fft, hop)
        else:  # too short to reflect: the whole overlap-add
            rebuilt = frames_of(overlap_add(S, n_fft, hop), F, n_fft, hop)
        angles = rebuilt - beta * tprev
        angles = angles / (np.abs(angles) + 1e-30)
    y = np.zeros(length)
    y[:max(sig, 0)] = overlap_add(mag * angles, n_fft, hop, synthesis=True)[pad:pad + max(sig, 0)]
    return y


def audio(n: int, seed: int) -> np.ndarray:
    """Decaying partials plus noise, peak about 0.5: a spectrogram with structure, so that
    the iterations move and the comparison means something."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 48000.0
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3)) * np.exp(-t * d)
            for f, d in ((220.0, 3.0), (1310.0, 8.0), (5020.0, 20.0)))
    x = x + 0.3 * rng.standard_normal(n) * np.exp(-t * 5.0)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12))


# (n_fft, hop, samples): 96000 samples is longer than the window, so it slides several times.
CASES = [(1024, 256, 96000), (1024, 256, 12345), (1024, 512, 20000), (512, 128, 30001),
         (2048, 512, 48000), (256, 100, 9000), (64, 16, 3000)]


@pytest.mark.parametrize("n_fft,hop,n", CASES)
@pytest.mark.parametrize("n_iter", [0, 1, 2, 5])
def test_fused_griffin_lim_matches_reference_loop(n_fft, hop, n, n_iter):
    mag = np.abs(dsp.stft(audio(n, n_fft + hop), n_fft, hop)).astype(np.float32)
    ours = dsp.griffin_lim(mag, n_iter=n_iter, momentum=MOMENTUM, n_fft=n_fft, hop=hop,
                           length=n, seed=7)
    ref = reference_fgla(mag, n_iter, n_fft, hop, n, seed=7)
    assert ours.shape == (n,) and ours.dtype == np.float32
    assert rel_err(ours, ref) < RTOL


@pytest.mark.parametrize("length", [None, 0, 300, 513, 700, 3000, 7000, 12000, 30000])
def test_fused_griffin_lim_matches_reference_for_any_length(length):
    """Lengths that do not match the frames: shorter (frames reach past the reflected end,
    or the signal is too short to reflect) and longer (zeros past the overlap-add)."""
    n_fft, hop = 1024, 256
    mag = np.abs(dsp.stft(audio(9000, 3), n_fft, hop)).astype(np.float32)  # 36 frames
    ours = dsp.griffin_lim(mag, n_iter=3, momentum=MOMENTUM, n_fft=n_fft, hop=hop,
                           length=length, seed=1)
    n = hop * (mag.shape[1] - 1) if length is None else length
    ref = reference_fgla(mag, 3, n_fft, hop, n, seed=1)
    assert ours.shape == (n,)
    if n:
        assert rel_err(ours, ref) < RTOL


def test_fused_griffin_lim_is_bit_exact_across_runs_and_layouts():
    mag = np.abs(dsp.stft(audio(60000, 5))).astype(np.float32)
    a = dsp.griffin_lim(mag, n_iter=6, length=60000, seed=11)
    b = dsp.griffin_lim(np.asfortranarray(mag), n_iter=6, length=60000, seed=11)
    c = dsp.griffin_lim(mag, n_iter=6, length=60000, seed=11)
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert not np.array_equal(a, dsp.griffin_lim(mag, n_iter=6, length=60000, seed=12))

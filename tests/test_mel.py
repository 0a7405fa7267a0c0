"""Mel features: the Slaney filterbank against librosa, the pseudo-inverse mel_to_linear,
and log_mel against numpy over foleykit's own STFT."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import HOP, N_FFT, SR, magnitude
from foleykit import dsp

librosa = pytest.importorskip("librosa")


@pytest.mark.parametrize("sr", [48000, 44100, 24000, 16000])
@pytest.mark.parametrize("n_mels", [40, 80, 128])
def test_mel_filterbank_matches_librosa(sr, n_mels):
    fb = dsp.mel_filterbank(sr, N_FFT, n_mels)
    ref = librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=n_mels, htk=False, norm="slaney")
    assert fb.dtype == np.float32
    assert fb.shape == ref.shape == (n_mels, N_FFT // 2 + 1)
    np.testing.assert_allclose(fb, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("sr,n_fft,n_mels,fmin,fmax", [
    (48000, 1024, 80, 50.0, 12000.0),
    (44100, 2048, 128, 20.0, 20000.0),
    (16000, 512, 40, 300.0, 7600.0),
])
def test_mel_filterbank_band_limits_match_librosa(sr, n_fft, n_mels, fmin, fmax):
    fb = dsp.mel_filterbank(sr, n_fft, n_mels, fmin=fmin, fmax=fmax)
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                              htk=False, norm="slaney")
    assert fb.shape == ref.shape
    np.testing.assert_allclose(fb, ref, rtol=0, atol=1e-6)


def _smooth_magnitudes(signals) -> dict:
    """Magnitudes that vary slowly across frequency (what mel features can describe)."""
    f = np.fft.rfftfreq(N_FFT, 1.0 / SR)[:, None]
    t = np.arange(50)[None, :]
    noise = magnitude(signals["noise"])
    # 9x9 box smoothing of the noise bed's magnitude: realistic, but with no fine structure.
    k = np.ones(9) / 9.0
    smooth = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, noise)
    smooth = np.apply_along_axis(lambda c: np.convolve(c, k, mode="same"), 0, smooth)
    return {
        "pink": (1.0 / (1.0 + f / 2000.0)) * (1.0 + 0.5 * np.sin(2 * np.pi * t / 50)),
        "bumps": (np.exp(-0.5 * ((f - 3000) / 1500) ** 2)
                  + 0.5 * np.exp(-0.5 * ((f - 12000) / 3000) ** 2) + 0.05) * np.ones_like(t),
        "tilt": np.exp(-f / 8000.0) * np.linspace(0.5, 1.5, 50)[None, :],
        "noise_smoothed": smooth,
    }


@pytest.mark.parametrize("n_mels", [80, 128])
def test_mel_to_linear_reconstructs_smooth_magnitudes(signals, n_mels):
    """mel -> linear is underdetermined (n_mels equations for 513 bins). Two regions are not
    recoverable from any Slaney filterbank: the DC bin lies in no filter, and bins above the
    centre of the top filter sit on a single falling slope. Between them a smooth magnitude is
    pinned down to within the filter spacing. Measured relative L2 errors there (48 kHz):
    80 mels 0.4-2.9 %, 128 mels 0.3-2.2 % (the largest for the smoothed noise bed); the
    bound is 5 %. Over all bins the errors are 2-16 %, dominated by the two regions above;
    that bound is 20 %. librosa's NNLS inverse (mel_to_stft, power=1) gives the same errors,
    so ours must not be worse than it by more than 10 %."""
    fb = dsp.mel_filterbank(SR, N_FFT, n_mels)
    f = np.fft.rfftfreq(N_FFT, 1.0 / SR)
    top_centre = librosa.mel_frequencies(n_mels + 2, fmin=0.0, fmax=SR / 2)[-2]
    band = (f > 0) & (f <= top_centre)
    for name, mag in _smooth_magnitudes(signals).items():
        mag = mag.astype(np.float32)
        mel = fb @ mag
        rec = dsp.mel_to_linear(mel, fb)
        assert rec.dtype == np.float32 and rec.shape == mag.shape, name
        assert rec.min() >= 0.0, name
        err_band = np.linalg.norm((rec - mag)[band]) / np.linalg.norm(mag[band])
        err_all = np.linalg.norm(rec - mag) / np.linalg.norm(mag)
        assert err_band < 0.05, f"{name}: in-band relative error {err_band:.4f}"
        assert err_all < 0.20, f"{name}: overall relative error {err_all:.4f}"
        lib = librosa.feature.inverse.mel_to_stft(mel, sr=SR, n_fft=N_FFT, power=1.0)
        err_lib = np.linalg.norm(lib - mag) / np.linalg.norm(mag)
        assert err_all <= 1.1 * err_lib + 1e-3, f"{name}: ours {err_all:.4f}, librosa {err_lib:.4f}"


def test_mel_to_linear_is_consistent_in_the_mel_domain(signals):
    # Whatever it picks among the many linear spectra, fb @ result should give the mel back.
    fb = dsp.mel_filterbank(SR, N_FFT, 80)
    for name, mag in _smooth_magnitudes(signals).items():
        mel = fb @ mag.astype(np.float32)
        rec = dsp.mel_to_linear(mel, fb)
        rel = np.linalg.norm(fb @ rec - mel) / np.linalg.norm(mel)
        assert rel < 1e-2, f"{name}: mel-domain relative error {rel:.4f}"


def test_mel_to_linear_never_returns_negatives(mags):
    fb = dsp.mel_filterbank(SR, N_FFT, 80)
    rng = np.random.default_rng(5)
    inputs = {name: fb @ m for name, m in mags.items()}
    # Mel frames that no linear spectrum produces: a plain pseudo-inverse goes negative here.
    inputs["random"] = rng.uniform(0.0, 1.0, (80, 64)).astype(np.float32)
    inputs["spiky"] = (rng.uniform(size=(80, 64)) < 0.1).astype(np.float32) * 5.0
    inputs["zeros"] = np.zeros((80, 3), np.float32)
    for name, mel in inputs.items():
        rec = dsp.mel_to_linear(mel, fb)
        assert rec.shape == (N_FFT // 2 + 1, mel.shape[1]), name
        assert np.all(np.isfinite(rec)), name
        assert rec.min() >= 0.0, f"{name}: min {rec.min()}"
    assert np.all(dsp.mel_to_linear(inputs["zeros"], fb) == 0.0)


@pytest.mark.parametrize("kwargs", [
    {},
    {"n_mels": 128},
    {"sr": 44100.0, "n_mels": 40, "fmin": 50.0, "fmax": 16000.0},
    {"n_fft": 2048, "hop": 512},
])
def test_log_mel_matches_numpy_over_foleykit_stft(signals, random_signals, kwargs):
    sr = kwargs.get("sr", 48000.0)
    n_fft, hop = kwargs.get("n_fft", N_FFT), kwargs.get("hop", HOP)
    fb = dsp.mel_filterbank(sr, n_fft, kwargs.get("n_mels", 80), kwargs.get("fmin", 0.0),
                            kwargs.get("fmax"))
    for name, x in {**signals, **random_signals}.items():
        if len(x) <= n_fft // 2:
            continue  # too short for this n_fft (test_errors covers that)
        lm = dsp.log_mel(x, **kwargs)
        mag = np.abs(dsp.stft(x, n_fft, hop)).astype(np.float64)
        ref = np.log(np.maximum(fb.astype(np.float64) @ mag, 1e-5))
        assert lm.dtype == np.float32 and lm.shape == ref.shape, name
        np.testing.assert_allclose(lm, ref, rtol=0, atol=1e-5, err_msg=name)


def test_log_mel_floor(signals):
    x = signals["impact"].copy()
    x[:4800] = 0.0  # silence: the floor must bite
    lm = dsp.log_mel(x, log_floor=1e-3)
    fb = dsp.mel_filterbank(SR, N_FFT, 80)
    ref = np.log(np.maximum(fb.astype(np.float64) @ np.abs(dsp.stft(x)), 1e-3))
    np.testing.assert_allclose(lm, ref, rtol=0, atol=1e-5)
    assert lm.min() == pytest.approx(np.log(1e-3), abs=1e-6)

"""Phase reconstruction quality, measured as spectral convergence (dB, lower is better) with
foleykit.dsp.spectral_convergence on outputs of the same length as the original signal.

References: librosa.griffinlim (zero padding), as the median over several random states (see
conftest.GL_STATES: one draw is a coin toss). Ours pads with reflect; both are measured the
same way, so the comparison is fair. The thresholds are the issue's; they
are not to be loosened to make a run pass. Every assertion message carries the numbers.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import GL_STATES, HOP, N_FFT, SIGNAL_NAMES
from foleykit import dsp

torch = pytest.importorskip("torch")
pytest.importorskip("librosa")


def sc(mag: np.ndarray, y: np.ndarray) -> float:
    return dsp.spectral_convergence(mag, y, N_FFT, HOP)


def report(record_property, **numbers) -> str:
    for k, v in numbers.items():
        record_property(k, round(float(v), 3))
    text = ", ".join(f"{k} {v:.2f} dB" for k, v in numbers.items())
    print(text)
    return text


# --- the metric itself --------------------------------------------------------------------

def test_spectral_convergence_matches_numpy_and_torch(signals, mags):
    # The quality tests below trust this number; check it against an independent formula.
    rng = np.random.default_rng(0)
    for name, x in signals.items():
        mag = mags[name]
        y = (x + 0.02 * rng.standard_normal(len(x))).astype(np.float32)
        est = torch.stft(torch.from_numpy(y), N_FFT, HOP, window=torch.hann_window(N_FFT),
                         center=True, return_complex=True).abs().numpy().astype(np.float64)
        ref = 20.0 * np.log10(np.linalg.norm(mag - est) / np.linalg.norm(mag.astype(np.float64)))
        assert sc(mag, y) == pytest.approx(ref, abs=1e-3), name


def test_spectral_convergence_orders_reconstructions(signals, mags):
    x, mag = signals["voiced"], mags["voiced"]
    assert sc(mag, x) < -100.0  # the signal itself
    noisy = [sc(mag, (x + a * np.random.default_rng(1).standard_normal(len(x))).astype(np.float32))
             for a in (0.001, 0.01, 0.1)]
    assert noisy[0] < noisy[1] < noisy[2], noisy


# --- (a), (b): PGHI on impacts ------------------------------------------------------------

def test_a_pghi_beats_librosa_griffin_lim_32_on_impacts(signals, mags, librosa_gl, record_property):
    x, mag = signals["impact"], mags["impact"]
    ours = sc(mag, dsp.pghi(mag, length=len(x)))
    ref = librosa_gl.sc("impact", 32)
    msg = report(record_property, pghi=ours, librosa_gl32=ref)
    assert ours < ref, msg


def test_b_pghi_plus_8_iterations_beats_librosa_griffin_lim_100_on_impacts(
        signals, mags, librosa_gl, record_property):
    x, mag = signals["impact"], mags["impact"]
    ours = sc(mag, dsp.griffin_lim(mag, n_iter=8, init="pghi", length=len(x)))
    ref = librosa_gl.sc("impact", 100)
    msg = report(record_property, pghi_gl8=ours, librosa_gl100=ref)
    assert ours < ref, msg


# --- (c): our fast Griffin-Lim against librosa's, same iteration count ----------------------

# Medians over GL_STATES still move by about 0.3 dB with the draws; "equal" allows 0.25 dB.
GL_EQUAL_DB = 0.25


@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_c_griffin_lim_32_at_least_as_good_as_librosa(name, signals, mags, librosa_gl,
                                                      record_property):
    x, mag = signals[name], mags[name]
    ours = float(np.median([sc(mag, dsp.griffin_lim(mag, n_iter=32, length=len(x), seed=s))
                            for s in GL_STATES]))
    ref = librosa_gl.sc(name, 32)
    msg = report(record_property, **{f"{name}_gl32": ours, f"{name}_librosa_gl32": ref})
    assert ours <= ref + GL_EQUAL_DB, msg


# --- (d): streaming RTPGHI against offline PGHI ----------------------------------------------

def _stream_vs_offline(name, signals, mags, stream, record_property):
    x, mag = signals[name], mags[name]
    y_stream = stream(mag, "rtpghi")
    # The stream returns the whole overlap-add support; cut both to the signal's length.
    assert len(y_stream) == HOP * (mag.shape[1] - 1) + N_FFT // 2
    s = sc(mag, y_stream[: len(x)])
    p = sc(mag, dsp.pghi(mag, length=len(x)))
    msg = report(record_property, **{f"{name}_stream": s, f"{name}_pghi": p})
    return s, p, msg


@pytest.mark.parametrize("name", ["impact", "noise", "voiced"])
def test_d_streaming_rtpghi_within_1db_of_offline_pghi(name, signals, mags, stream,
                                                      record_property):
    s, p, msg = _stream_vs_offline(name, signals, mags, stream, record_property)
    # "Within 1 dB" of offline: streaming may be better, but not more than 1 dB worse.
    assert s <= p + 1.0, msg


@pytest.mark.parametrize("seed", range(4))
def test_d_streaming_rtpghi_within_1db_of_offline_on_other_impacts(seed, record_property):
    """Onsets are where one frame of look-ahead is weakest; the fixed test impact could be a
    lucky draw, so check impacts with other onset times, attacks and noise bursts too."""
    from foleykit import testsignals

    rng = np.random.default_rng(100 + seed)
    onsets = tuple(np.sort(rng.uniform(0.02, 0.8, 3)))
    x = testsignals.impact(seed=seed, onsets=onsets, attack_ms=float(rng.choice([0.2, 1.0, 3.0])))
    mag = np.abs(dsp.stft(x, N_FFT, HOP)).astype(np.float32)
    synth = dsp.StreamingSynth(N_FFT, HOP, method="rtpghi", seed=0)
    y = np.concatenate([synth.push(mag), synth.flush()])[: len(x)]
    s, p = sc(mag, y), sc(mag, dsp.pghi(mag, length=len(x)))
    msg = report(record_property, **{f"impact{seed}_stream": s, f"impact{seed}_pghi": p})
    assert s <= p + 1.0, msg


@pytest.mark.parametrize("n_fft,hop", [(512, 128), (1024, 512), (1024, 128), (2048, 512)])
def test_d_streaming_rtpghi_within_1db_of_offline_on_impacts_other_settings(
        n_fft, hop, signals, record_property):
    """The onset handling depends on the hop/n_fft ratio (the impulse model's phi, and
    refinement only up to 4x overlap), so check the impact at other STFT settings too."""
    x = signals["impact"]
    mag = np.abs(dsp.stft(x, n_fft, hop)).astype(np.float32)
    synth = dsp.StreamingSynth(n_fft, hop, method="rtpghi", seed=0)
    y = np.concatenate([synth.push(mag), synth.flush()])[: len(x)]
    s = dsp.spectral_convergence(mag, y, n_fft, hop)
    p = dsp.spectral_convergence(mag, dsp.pghi(mag, n_fft, hop, length=len(x)), n_fft, hop)
    msg = report(record_property, **{f"impact_{n_fft}_{hop}_stream": s,
                                     f"impact_{n_fft}_{hop}_pghi": p})
    assert s <= p + 1.0, msg


# --- floor checks: each method does real work --------------------------------------------

@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_methods_beat_random_phase(name, signals, mags):
    """Any phase method must do clearly better than unrelated random phases."""
    x, mag = signals[name], mags[name]
    rnd = sc(mag, dsp.synthesize(mag, kind="linear", method="random", length=len(x)))
    for label, y in {
        "pghi": dsp.pghi(mag, length=len(x)),
        "gl32": dsp.griffin_lim(mag, n_iter=32, length=len(x)),
        "pghi_gl8": dsp.griffin_lim(mag, n_iter=8, init="pghi", length=len(x)),
    }.items():
        assert sc(mag, y) < rnd - 3.0, f"{name} {label}: {sc(mag, y):.2f} vs random {rnd:.2f}"


def test_griffin_lim_iterations_improve_pghi(signals, mags):
    for name, x in signals.items():
        mag = mags[name]
        p0 = sc(mag, dsp.griffin_lim(mag, n_iter=0, init="pghi", length=len(x)))
        p8 = sc(mag, dsp.griffin_lim(mag, n_iter=8, init="pghi", length=len(x)))
        assert p8 < p0, f"{name}: 0 iters {p0:.2f}, 8 iters {p8:.2f}"

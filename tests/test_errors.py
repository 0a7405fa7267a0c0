"""API contract sweep: bad input raises foleykit.DSPError (a ValueError) whose message names
the problem; nothing crashes. Float64 and non-contiguous input is converted, with the same
result as the contiguous float32 call."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import foleykit
from foleykit import dsp

N = 1024  # default n_fft
B = N // 2 + 1


@pytest.fixture(scope="module")
def inp():
    rng = np.random.default_rng(0)
    x = (0.4 * rng.uniform(-1, 1, 6000)).astype(np.float32)
    S = dsp.stft(x)
    mag = np.abs(S).astype(np.float32)
    fb = dsp.mel_filterbank(48000, N, 80)
    return SimpleNamespace(x=x, S=S, mag=mag, fb=fb, mel=(fb @ mag).astype(np.float32),
                           logmel=dsp.log_mel(x))


def with_value(a: np.ndarray, value, index=(3, 4)) -> np.ndarray:
    a = a.copy()
    a[index if a.ndim > 1 else index[0]] = value
    return a


def test_dsp_error_is_a_value_error():
    assert issubclass(foleykit.DSPError, ValueError)
    assert dsp.DSPError is foleykit.DSPError


# Each case: (id, call(inp), regex the message must match).
NONFINITE = []
for bad, word in [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")]:
    NONFINITE += [
        (f"stft-{word}", lambda i, b=bad: dsp.stft(with_value(i.x, b)), word),
        (f"log_mel-{word}", lambda i, b=bad: dsp.log_mel(with_value(i.x, b)), word),
        (f"istft-{word}", lambda i, b=bad: dsp.istft(with_value(i.S, complex(b, 0))), word),
        (f"istft-imag-{word}", lambda i, b=bad: dsp.istft(with_value(i.S, complex(0, b))), word),
        (f"pghi-{word}", lambda i, b=bad: dsp.pghi(with_value(i.mag, b)), word),
        (f"griffin_lim-{word}", lambda i, b=bad: dsp.griffin_lim(with_value(i.mag, b)), word),
        (f"sc-mag-{word}", lambda i, b=bad: dsp.spectral_convergence(with_value(i.mag, b), i.x), word),
        (f"sc-signal-{word}", lambda i, b=bad: dsp.spectral_convergence(i.mag, with_value(i.x, b)), word),
        (f"mel_to_linear-{word}", lambda i, b=bad: dsp.mel_to_linear(with_value(i.mel, b), i.fb), word),
        (f"synth-linear-{word}", lambda i, b=bad: dsp.synthesize(with_value(i.mag, b), kind="linear"), word),
        (f"synth-mel-{word}", lambda i, b=bad: dsp.synthesize(with_value(i.mel, b), kind="mel"), word),
        (f"synth-log_mel-{word}", lambda i, b=bad: dsp.synthesize(with_value(i.logmel, b)), word),
        (f"stream-{word}", lambda i, b=bad: dsp.StreamingSynth().push(with_value(i.mag, b)), word),
    ]

NEGATIVE = [
    ("pghi", lambda i: dsp.pghi(with_value(i.mag, -0.5)), "negative"),
    ("griffin_lim", lambda i: dsp.griffin_lim(with_value(i.mag, -0.5)), "negative"),
    ("sc", lambda i: dsp.spectral_convergence(with_value(i.mag, -0.5), i.x), "negative"),
    ("mel_to_linear", lambda i: dsp.mel_to_linear(with_value(i.mel, -0.5), i.fb), "negative"),
    ("synth-linear", lambda i: dsp.synthesize(with_value(i.mag, -0.5), kind="linear"), "negative"),
    ("synth-mel", lambda i: dsp.synthesize(with_value(i.mel, -0.5), kind="mel"), "negative"),
    ("stream", lambda i: dsp.StreamingSynth().push(with_value(i.mag, -0.5)), "negative"),
    ("stream-random", lambda i: dsp.StreamingSynth(method="random").push(with_value(i.mag, -1e-3)),
     "negative"),
]

SHAPE = [
    # bin count that does not match n_fft
    ("pghi-bins", lambda i: dsp.pghi(i.mag[:-1]), "bins"),
    ("pghi-n_fft", lambda i: dsp.pghi(i.mag, n_fft=512, hop=128), "bins"),
    ("griffin_lim-bins", lambda i: dsp.griffin_lim(i.mag[:-2]), "bins"),
    ("istft-bins", lambda i: dsp.istft(i.S[:-1]), "bins"),
    ("istft-n_fft", lambda i: dsp.istft(i.S, n_fft=2048, hop=512), "bins"),
    ("sc-bins", lambda i: dsp.spectral_convergence(i.mag[1:], i.x), "bins"),
    ("synth-linear-bins", lambda i: dsp.synthesize(i.mag[:-1], kind="linear"), "rows|bins"),
    ("synth-mel-rows", lambda i: dsp.synthesize(i.mel[:-1], kind="mel"), "rows|n_mels"),
    ("mel_to_linear-rows", lambda i: dsp.mel_to_linear(i.mel[:-1], i.fb), "rows|filters"),
    ("stream-bins", lambda i: dsp.StreamingSynth().push(i.mag[:-1]), "bins"),
    ("sc-frames", lambda i: dsp.spectral_convergence(i.mag, i.x[:3000]), "frames"),
    # zero frames
    ("pghi-empty", lambda i: dsp.pghi(i.mag[:, :0]), "zero frames"),
    ("griffin_lim-empty", lambda i: dsp.griffin_lim(i.mag[:, :0]), "zero frames"),
    ("istft-empty", lambda i: dsp.istft(i.S[:, :0]), "zero frames"),
    ("sc-empty", lambda i: dsp.spectral_convergence(i.mag[:, :0], i.x), "zero frames"),
    ("synth-empty", lambda i: dsp.synthesize(i.mag[:, :0], kind="linear"), "zero frames"),
    ("synth-log_mel-empty", lambda i: dsp.synthesize(i.logmel[:, :0]), "zero frames"),
    ("mel_to_linear-empty", lambda i: dsp.mel_to_linear(i.mel[:, :0], i.fb), "zero frames"),
    # wrong ndim
    ("stft-2d", lambda i: dsp.stft(i.x[None, :]), "1-D"),
    ("stft-0d", lambda i: dsp.stft(np.float32(0.1)), r"1-D|short"),
    ("log_mel-2d", lambda i: dsp.log_mel(np.stack([i.x, i.x])), "1-D"),
    ("istft-1d", lambda i: dsp.istft(i.S[:, 0]), "2-D"),
    ("istft-3d", lambda i: dsp.istft(i.S[None]), "2-D"),
    ("pghi-1d", lambda i: dsp.pghi(i.mag[:, 0]), "2-D"),
    ("pghi-3d", lambda i: dsp.pghi(i.mag[None]), "2-D"),
    ("griffin_lim-1d", lambda i: dsp.griffin_lim(i.mag[:, 0]), "2-D"),
    ("synth-1d", lambda i: dsp.synthesize(i.mag[:, 0], kind="linear"), "2-D"),
    ("synth-3d", lambda i: dsp.synthesize(i.logmel[None]), "2-D"),
    ("sc-signal-2d", lambda i: dsp.spectral_convergence(i.mag, i.x[None]), "1-D"),
    ("mel_to_linear-1d", lambda i: dsp.mel_to_linear(i.mel[:, 0], i.fb), "2-D"),
    ("stream-3d", lambda i: dsp.StreamingSynth().push(i.mag[None]), "2-D"),
    # signal too short for reflect padding (needs n_fft/2 + 1 samples)
    ("stft-empty", lambda i: dsp.stft(np.zeros(0, np.float32)), "short"),
    ("stft-short", lambda i: dsp.stft(i.x[:N // 2]), "short"),
    ("stft-short-2048", lambda i: dsp.stft(i.x[:1024], n_fft=2048, hop=512), "short"),
    ("log_mel-short", lambda i: dsp.log_mel(i.x[:100]), "short"),
    ("sc-short", lambda i: dsp.spectral_convergence(i.mag[:, :2], i.x[:300]), "short"),
]

DTYPE = [
    ("stft-complex", lambda i: dsp.stft(i.x.astype(np.complex64)), "real"),
    ("log_mel-complex", lambda i: dsp.log_mel(i.x.astype(np.complex128)), "real"),
    ("pghi-complex", lambda i: dsp.pghi(i.S), "real"),
    ("griffin_lim-complex", lambda i: dsp.griffin_lim(i.S), "real"),
    ("sc-complex", lambda i: dsp.spectral_convergence(i.S, i.x), "real"),
    ("synth-complex", lambda i: dsp.synthesize(i.S, kind="linear"), "real"),
    ("mel_to_linear-complex", lambda i: dsp.mel_to_linear(i.mel.astype(np.complex64), i.fb), "real"),
    ("stream-complex", lambda i: dsp.StreamingSynth().push(i.S), "real"),
    ("istft-real", lambda i: dsp.istft(i.mag), "complex"),
    ("istft-real64", lambda i: dsp.istft(i.mag.astype(np.float64)), "complex"),
    ("stft-strings", lambda i: dsp.stft(np.array(["a"] * 600)), "numeric|dtype"),
]

PARAMS = [
    ("griffin_lim-init", lambda i: dsp.griffin_lim(i.mag, init="zeros"), "init"),
    ("griffin_lim-init-empty", lambda i: dsp.griffin_lim(i.mag, init=""), "init"),
    ("synth-kind", lambda i: dsp.synthesize(i.mag, kind="stft"), "kind"),
    ("synth-method", lambda i: dsp.synthesize(i.mag, kind="linear", method="magic"), "method"),
    ("synth-method-rtpghi", lambda i: dsp.synthesize(i.logmel, method="rtpghi"), "method"),
    ("stream-method", lambda i: dsp.StreamingSynth(method="pghi"), "method"),
    ("stream-method-empty", lambda i: dsp.StreamingSynth(method=""), "method"),
    ("griffin_lim-n_iter", lambda i: dsp.griffin_lim(i.mag, n_iter=-1), "n_iter"),
    ("synth-n_iter", lambda i: dsp.synthesize(i.mag, kind="linear", method="griffin_lim",
                                              n_iter=-1), "n_iter"),
    ("synth-n_iter-pghi_gl", lambda i: dsp.synthesize(i.logmel, method="pghi_griffin_lim",
                                                      n_iter=-5), "n_iter"),
    ("momentum-neg", lambda i: dsp.griffin_lim(i.mag, momentum=-0.1), "momentum"),
    ("momentum-big", lambda i: dsp.griffin_lim(i.mag, momentum=2.0), "momentum"),
    ("momentum-huge", lambda i: dsp.griffin_lim(i.mag, momentum=1e9), "momentum"),
    ("momentum-nan", lambda i: dsp.griffin_lim(i.mag, momentum=float("nan")), "momentum"),
    ("momentum-inf", lambda i: dsp.griffin_lim(i.mag, momentum=float("inf")), "momentum"),
    ("istft-length", lambda i: dsp.istft(i.S, length=-1), "length"),
    ("pghi-length", lambda i: dsp.pghi(i.mag, length=-1), "length"),
    ("griffin_lim-length", lambda i: dsp.griffin_lim(i.mag, length=-1), "length"),
    ("synth-length", lambda i: dsp.synthesize(i.logmel, length=-1), "length"),
    ("mel-n_mels", lambda i: dsp.mel_filterbank(48000, N, 0), "n_mels"),
    ("mel-sr", lambda i: dsp.mel_filterbank(0, N, 80), "sample rate|sr"),
    ("mel-fmin>fmax", lambda i: dsp.mel_filterbank(48000, N, 80, fmin=8000, fmax=4000), "fmin|fmax"),
    ("mel-fmax>nyquist", lambda i: dsp.mel_filterbank(48000, N, 80, fmax=30000), "fmax"),
    ("log_mel-floor", lambda i: dsp.log_mel(i.x, log_floor=0.0), "log_floor"),
]


def _call_with_fft(fn_name: str, n_fft: int, hop: int):
    calls = {
        "stft": lambda i: dsp.stft(i.x, n_fft=n_fft, hop=hop),
        "istft": lambda i: dsp.istft(i.S, n_fft=n_fft, hop=hop),
        "pghi": lambda i: dsp.pghi(i.mag, n_fft=n_fft, hop=hop),
        "griffin_lim": lambda i: dsp.griffin_lim(i.mag, n_fft=n_fft, hop=hop),
        "spectral_convergence": lambda i: dsp.spectral_convergence(i.mag, i.x, n_fft=n_fft, hop=hop),
        "log_mel": lambda i: dsp.log_mel(i.x, n_fft=n_fft, hop=hop),
        "synthesize": lambda i: dsp.synthesize(i.logmel, n_fft=n_fft, hop=hop),
        "StreamingSynth": lambda i: dsp.StreamingSynth(n_fft=n_fft, hop=hop),
    }
    return calls[fn_name]


FFT_FUNCS = ["stft", "istft", "pghi", "griffin_lim", "spectral_convergence", "log_mel",
             "synthesize", "StreamingSynth"]
FFT = []
for f in FFT_FUNCS:
    for n_fft in [0, 7, 8, 1023, -1024, 1 << 20]:
        FFT.append((f"{f}-n_fft={n_fft}", _call_with_fft(f, n_fft, 4), "n_fft"))
    for hop in [0, -1, N]:
        FFT.append((f"{f}-hop={hop}", _call_with_fft(f, N, hop), "hop"))
for n_fft in [0, 7, 8, 1023, 1 << 20]:
    FFT.append((f"mel_filterbank-n_fft={n_fft}",
                lambda i, n=n_fft: dsp.mel_filterbank(48000, n, 40), "n_fft"))

CASES = NONFINITE + NEGATIVE + SHAPE + DTYPE + PARAMS + FFT


@pytest.mark.parametrize("call,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_dsp_error(inp, call, pattern):
    with pytest.raises(foleykit.DSPError, match=pattern):
        call(inp)


def test_nan_message_says_nan_not_inf(inp):
    with pytest.raises(foleykit.DSPError, match="NaN"):
        dsp.pghi(with_value(inp.mag, np.nan))
    with pytest.raises(foleykit.DSPError, match="NaN"):
        dsp.stft(with_value(inp.x, np.nan))


def test_inputs_are_not_modified(inp):
    x, mag = inp.x.copy(), inp.mag.copy()
    dsp.stft(inp.x)
    dsp.griffin_lim(inp.mag, n_iter=2)
    dsp.pghi(inp.mag)
    np.testing.assert_array_equal(inp.x, x)
    np.testing.assert_array_equal(inp.mag, mag)


# --- conversions ---------------------------------------------------------------------------

def _variants(a: np.ndarray) -> dict:
    """Layouts and dtypes that must be accepted and give the contiguous float32 result."""
    out = {"float64": a.astype(np.float64), "fortran": np.asfortranarray(a)}
    wide = np.repeat(a, 2, axis=-1)  # every element twice: wide[..., ::2] == a
    out["strided"] = wide[..., ::2]
    assert not out["strided"].flags.c_contiguous
    rev = a[..., ::-1].copy()
    out["negative stride"] = rev[..., ::-1]
    return out


def test_mag_conversions_give_equal_results(inp):
    mag = inp.mag
    calls = {
        "pghi": lambda m: dsp.pghi(m),
        "griffin_lim": lambda m: dsp.griffin_lim(m, n_iter=3, seed=1),
        "griffin_lim-pghi": lambda m: dsp.griffin_lim(m, n_iter=3, init="pghi"),
        "synthesize": lambda m: dsp.synthesize(m, kind="linear", method="pghi_griffin_lim", n_iter=2),
        "sc": lambda m: np.float32(dsp.spectral_convergence(m, inp.x)),
        "stream": lambda m: np.concatenate([(s := dsp.StreamingSynth()).push(m), s.flush()]),
    }
    for label, call in calls.items():
        ref = call(mag)
        for vname, v in _variants(mag).items():
            np.testing.assert_array_equal(call(v), ref, err_msg=f"{label} {vname}")


def test_sliced_magnitude_equals_contiguous_copy(inp):
    # mag[:, ::2] is a genuinely different spectrogram; it must equal the call on its copy.
    sl = inp.mag[:, ::2]
    assert not sl.flags.c_contiguous
    np.testing.assert_array_equal(dsp.pghi(sl), dsp.pghi(np.ascontiguousarray(sl)))
    np.testing.assert_array_equal(dsp.griffin_lim(sl, n_iter=2),
                                  dsp.griffin_lim(np.ascontiguousarray(sl), n_iter=2))


def test_signal_conversions_give_equal_results(inp):
    x = inp.x
    for vname, v in _variants(x).items():
        np.testing.assert_array_equal(dsp.stft(v), dsp.stft(x), err_msg=vname)
        np.testing.assert_array_equal(dsp.log_mel(v), dsp.log_mel(x), err_msg=vname)
    # A genuine float64 signal is rounded to float32 first.
    x64 = np.random.default_rng(3).uniform(-0.5, 0.5, 5000)
    np.testing.assert_array_equal(dsp.stft(x64), dsp.stft(x64.astype(np.float32)))
    # Integer PCM-like input is numeric and accepted too.
    xi = (x * 1000).astype(np.int16)
    np.testing.assert_array_equal(dsp.stft(xi), dsp.stft(xi.astype(np.float32)))


def test_complex_conversions_give_equal_results(inp):
    S = inp.S
    ref = dsp.istft(S, length=len(inp.x))
    for vname, v in {"complex128": S.astype(np.complex128), "fortran": np.asfortranarray(S),
                     "strided": np.repeat(S, 2, axis=1)[:, ::2]}.items():
        np.testing.assert_array_equal(dsp.istft(v, length=len(inp.x)), ref, err_msg=vname)


def test_mel_conversions_give_equal_results(inp):
    ref = dsp.mel_to_linear(inp.mel, inp.fb)
    for vname, v in _variants(inp.mel).items():
        np.testing.assert_array_equal(dsp.mel_to_linear(v, inp.fb), ref, err_msg=vname)
    np.testing.assert_array_equal(dsp.mel_to_linear(inp.mel, inp.fb.astype(np.float64)), ref)
    ref = dsp.synthesize(inp.logmel)
    for vname, v in _variants(inp.logmel).items():
        np.testing.assert_array_equal(dsp.synthesize(v), ref, err_msg=vname)

"""StreamingSynth: output independent of how frames are split across push calls, the random
method equal to the offline one, bad frames rejected without touching the state."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import HOP, N_FFT, SIGNAL_NAMES, random_chunks
from foleykit import dsp

METHODS = ["rtpghi", "random"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_output_does_not_depend_on_push_split(method, name, mags, stream):
    mag = mags[name]
    n = mag.shape[1]
    whole = stream(mag, method)
    assert whole.dtype == np.float32
    # The whole overlap-add support: hop*(frames-1) samples, plus the last window's second half.
    assert whole.shape == (HOP * (n - 1) + N_FFT // 2,)
    assert np.all(np.isfinite(whole)) and np.abs(whole).max() > 0.0
    splits = {
        "one at a time": [1] * n,
        "random a": random_chunks(n, seed=1),
        "random b": random_chunks(n, seed=2, max_chunk=64),
        "first and rest": [1, n - 1],
        "all but last": [n - 1, 1],
    }
    for label, chunks in splits.items():
        np.testing.assert_array_equal(stream(mag, method, chunks), whole, err_msg=label)


@pytest.mark.parametrize("method", METHODS)
def test_one_dimensional_frames(method, mags, stream):
    mag = mags["voiced"]
    synth = dsp.StreamingSynth(method=method)
    out = [synth.push(mag[:, t]) for t in range(mag.shape[1])] + [synth.flush()]
    np.testing.assert_array_equal(np.concatenate(out), stream(mag, method))


@pytest.mark.parametrize("method", METHODS)
def test_latency_is_bounded(method, mags):
    """Each push returns what its frames complete: never more than hop samples per frame,
    and after the first few frames output keeps pace with input."""
    mag = mags["noise"]
    synth = dsp.StreamingSynth(method=method)
    total = 0
    for t in range(mag.shape[1]):
        y = synth.push(mag[:, t])
        assert len(y) <= HOP
        total += len(y)
        # At most n_fft/hop + 1 frames (window plus one look-ahead frame) may be held back.
        assert total >= HOP * (t + 1 - (N_FFT // HOP + 1)), (t, total)
    synth.flush()


def test_properties():
    s = dsp.StreamingSynth(n_fft=512, hop=128, method="random", seed=3)
    assert (s.n_fft, s.hop, s.method) == (512, 128, "random")
    assert dsp.StreamingSynth().method == "rtpghi"


@pytest.mark.parametrize("method", METHODS)
def test_flush_resets(method, mags):
    mag = mags["impact"]
    synth = dsp.StreamingSynth(method=method, seed=4)
    first = np.concatenate([synth.push(mag), synth.flush()])
    second = np.concatenate([synth.push(mag), synth.flush()])
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("method", METHODS)
def test_reset_discards_state(method, mags, stream):
    mag = mags["impact"]
    synth = dsp.StreamingSynth(method=method)
    synth.push(mags["noise"][:, :40])
    synth.reset()
    np.testing.assert_array_equal(np.concatenate([synth.push(mag), synth.flush()]),
                                  stream(mag, method))


@pytest.mark.parametrize("seed", [0, 1, 12345])
@pytest.mark.parametrize("name", SIGNAL_NAMES)
def test_random_method_equals_offline_synthesize(seed, name, mags, stream):
    """Both use hashed per-(seed, frame, bin) phases; the overlap-add is done in a different
    order, so equality is to float32 rounding (measured max |diff| ~1.5e-8), not bitwise. A
    different phase in any bin would show up as errors of order 1e-2."""
    mag = mags[name]
    ys = stream(mag, "random", seed=seed)
    yo = dsp.synthesize(mag, kind="linear", method="random", seed=seed, length=len(ys))
    assert ys.shape == yo.shape
    np.testing.assert_allclose(ys, yo, rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad_value,pattern", [(np.nan, "NaN"), (np.inf, "Inf"),
                                               (-1.0, "negative")])
def test_bad_frame_raises_and_leaves_state_unchanged(method, bad_value, pattern, mags, stream):
    mag = mags["impact"]
    synth = dsp.StreamingSynth(method=method)
    out = [synth.push(mag[:, :50])]
    bad = mag[:, 50:60].copy()
    bad[10, 3] = bad_value  # a good frame precedes the bad one in the same push
    with pytest.raises(dsp.DSPError, match=pattern):
        synth.push(bad)
    with pytest.raises(dsp.DSPError, match=pattern):
        synth.push(bad[:, 3])
    out += [synth.push(mag[:, 50:]), synth.flush()]
    np.testing.assert_array_equal(np.concatenate(out), stream(mag, method, [50, mag.shape[1] - 50]))


def test_wrong_bin_count_leaves_state_unchanged(mags, stream):
    mag = mags["voiced"]
    synth = dsp.StreamingSynth()
    out = [synth.push(mag[:, :20])]
    with pytest.raises(dsp.DSPError, match="bins"):
        synth.push(mag[:-1, 20:30])
    out += [synth.push(mag[:, 20:]), synth.flush()]
    np.testing.assert_array_equal(np.concatenate(out), stream(mag, "rtpghi", [20, mag.shape[1] - 20]))

"""Augmenter and SoundFolder.items(augment=k): seeded, label-keeping variations that each do
what they say (gain in dB, varispeed in semitones, stretch as a length ratio, shift in ms,
noise at an SNR), so a category of five clips yields a trainable set."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from foleykit.data import SoundFolder
from foleykit.data.augment import Augmenter
from foleykit.data.controls import derive

SR = 48000
OFF = dict(semitones=0.0, stretch=0.0, gain_db=0.0, shift_ms=0.0, snr_db=None)


def tone(hz=1000.0, seconds=0.3, sr=SR, amp=0.5):
    t = np.arange(int(seconds * sr)) / sr
    env = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.005)
    return (amp * env * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_same_seed_same_variant_other_seed_other_variant():
    x = tone()
    a, pa = Augmenter(seed=1)(x, SR, "clip", 1)
    b, pb = Augmenter(seed=1)(x, SR, "clip", 1)
    np.testing.assert_array_equal(a, b)
    assert pa == pb
    c, pc = Augmenter(seed=2)(x, SR, "clip", 1)
    d, pd = Augmenter(seed=1)(x, SR, "clip", 2)
    assert pc != pa and pd != pa
    assert a.dtype == np.float32 and a.ndim == 1 and np.isfinite(a).all()


def test_gain_only_moves_intensity_by_the_drawn_db():
    x = tone()
    y, p = Augmenter(seed=3, **{**OFF, "gain_db": 6.0})(x, SR, "k", 1)
    assert y.size == x.size and abs(p["gain_db"]) <= 6
    shift = derive(y, SR)["intensity"] - derive(x, SR)["intensity"]
    assert shift == pytest.approx(p["gain_db"], abs=0.01)


def test_varispeed_moves_pitch_and_length_together():
    x = tone(1000.0)
    y, p = Augmenter(seed=4, **{**OFF, "semitones": 3.0})(x, SR, "k", 1)
    ratio = 2 ** (p["semitones"] / 12)
    assert abs(p["semitones"]) > 0.1
    assert y.size == pytest.approx(x.size / ratio, abs=2)
    assert derive(y, SR)["brightness"] == pytest.approx(1000 * ratio, rel=0.01)


def test_stretch_keeps_pitch_and_changes_length():
    x = tone(1000.0, seconds=0.5)
    y, p = Augmenter(seed=5, **{**OFF, "stretch": 0.2})(x, SR, "k", 1)
    assert abs(p["stretch"] - 1) > 0.01
    assert y.size == round(x.size * p["stretch"])
    assert derive(y, SR)["brightness"] == pytest.approx(1000, rel=0.02)


def test_shift_prepends_silence_and_noise_hits_its_snr():
    x = tone()
    y, p = Augmenter(seed=6, **{**OFF, "shift_ms": 20.0})(x, SR, "k", 1)
    lead = int(round(p["shift_ms"] * 1e-3 * SR))
    assert y.size == x.size + lead and not y[:lead].any()
    np.testing.assert_array_equal(y[lead:], x)

    y, p = Augmenter(seed=7, **{**OFF, "snr_db": (20.0, 30.0)})(x, SR, "k", 1)
    noise = y - x
    snr = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(noise ** 2))
    assert 20 <= p["snr_db"] <= 30 and snr == pytest.approx(p["snr_db"], abs=0.3)


def test_bad_ranges_are_refused():
    for bad in (dict(stretch=1.0), dict(gain_db=-1.0), dict(snr_db=(40.0, 20.0))):
        with pytest.raises(ValueError):
            Augmenter(**bad)


def test_five_clip_category_trains_with_variants(tmp_path):
    root = tmp_path / "s"
    (root / "clank").mkdir(parents=True)
    for i in range(5):
        sf.write(str(root / "clank" / f"{i}.wav"), tone(400.0 * (i + 1)), SR)
    (root / "labels.csv").write_text("file,size\n" + "".join(
        f"clank/{i}.wav,{i}\n" for i in range(5)))
    f = SoundFolder(root, cache_dir=tmp_path / "cache")
    items = f.items(augment=3, seed=11)
    assert len(items) == 20
    assert [it.variant for it in items[:4]] == [0, 1, 2, 3]
    assert all(it.category == "clank" for it in items)
    for it in items:
        base = next(b for b in f if b.file == it.file)
        assert it.controls["size"] == base.controls["size"]  # user labels kept
        assert all(0 <= v <= 1 for v in it.normalized.values())
        assert it.mel.shape[0] == 80 and it.mel.shape[1] == 1 + it.audio.size // 256
    variants = [it.audio for it in items if it.variant]
    assert len({v.tobytes() for v in variants}) == 15  # all different
    again = f.items(augment=3, seed=11)
    for a, b in zip(items, again):
        np.testing.assert_array_equal(a.audio, b.audio)
        assert a.augmentation == b.augmentation
    other = f.items(augment=3, seed=12)
    assert not np.array_equal(other[1].audio, items[1].audio)
    # Derived controls are measured on each variant (varispeed moves brightness).
    v = items[1]
    ratio = 2 ** (v.augmentation["semitones"] / 12)
    assert v.controls["brightness"] == pytest.approx(items[0].controls["brightness"] * ratio,
                                                     rel=0.05)
    assert f.items() == list(f) and f.items(augment=0) == list(f)
    with pytest.raises(ValueError):
        f.items(augment=-1)

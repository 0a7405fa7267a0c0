"""The procedural corpus: API contract, determinism, output safety, and that every control
does what its name says - measured on the signal (level, spectral centroid, dominant
frequency, decay time, onset count), never on the generators' internal parameters.

Margins are several times the spread seen over seeds 0-49, and every comparison holds
the seed fixed so the two sounds are the same object played differently.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

import foleykit.data.procedural as procedural

SR = 48000
ONE_SHOTS = procedural.ONE_SHOTS
AMBIENCES = procedural.AMBIENCES
SEEDS = (0, 1, 2)


# --- measurements ---------------------------------------------------------------------------

def rms_db(x: np.ndarray) -> float:
    return 10.0 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-20)


def peak_db(x: np.ndarray) -> float:
    return 20.0 * np.log10(np.max(np.abs(x)) + 1e-20)


def centroid(x: np.ndarray, sr: int = SR) -> float:
    """Power-weighted mean frequency (Hz) of the whole clip."""
    p = np.abs(np.fft.rfft(np.asarray(x, np.float64))) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    return float((p * f).sum() / p.sum())


def hf_share(x: np.ndarray, above: float = 1000.0, sr: int = SR) -> float:
    """Share of the energy above ``above`` Hz: brightness for bass-heavy sounds, whose
    centroid the low end pins down."""
    p = np.abs(np.fft.rfft(np.asarray(x, np.float64))) ** 2
    return float(p[np.fft.rfftfreq(len(x), 1.0 / sr) >= above].sum() / p.sum())


def dominant(x: np.ndarray, sr: int = SR) -> float:
    """Frequency (Hz) of the strongest spectral peak, zero-padded to 1 Hz bins."""
    n = max(len(x), sr)
    p = np.abs(np.fft.rfft(np.asarray(x, np.float64), n))
    return float(np.argmax(p) * sr / n)


def envelope_db(x: np.ndarray, win: int = 480) -> np.ndarray:
    """Energy in dB over consecutive ``win``-sample frames (10 ms at 48 kHz)."""
    m = len(x) // win
    e = np.mean(np.asarray(x[:m * win], np.float64).reshape(m, win) ** 2, axis=1)
    return 10.0 * np.log10(e + 1e-20)


def decay_time(x: np.ndarray, drop_db: float = 30.0, sr: int = SR) -> float:
    """Seconds from the loudest 10 ms to the last 10 ms within ``drop_db`` of it."""
    env = envelope_db(x)
    top = int(np.argmax(env))
    above = np.flatnonzero(env >= env[top] - drop_db)
    return (above[-1] - top) * 480 / sr


def onsets(x: np.ndarray, threshold: float, frame: int = 96) -> int:
    """Number of 2 ms frames whose peak exceeds ``threshold`` and both neighbours' peaks."""
    m = len(x) // frame
    p = np.max(np.abs(x[:m * frame].reshape(m, frame)), axis=1)
    mid = p[1:-1]
    return int(np.sum((mid > threshold) & (mid > p[:-2]) & (mid >= p[2:])))


def energy_time(x: np.ndarray, sr: int = SR) -> float:
    """Energy-weighted mean time (s): where in the clip the sound sits."""
    e = np.asarray(x, np.float64) ** 2
    return float((e * np.arange(len(x))).sum() / e.sum() / sr)


def gen(category: str, seed: int = 0, duration=None, **controls) -> np.ndarray:
    return procedural.generate(category, seed=seed, duration=duration, **controls)


# --- registry and API contract ------------------------------------------------------------

def test_registry_lists_every_category_with_documented_controls():
    assert set(ONE_SHOTS) == {"impact", "footstep", "character_action", "ui", "whoosh",
                              "explosion", "glass_break", "door"}
    assert set(AMBIENCES) == {"rain", "wind", "fire", "water_stream", "city_street"}
    assert list(procedural.CATEGORIES) == [*ONE_SHOTS, *AMBIENCES]
    for name, cat in procedural.CATEGORIES.items():
        assert cat.name == name and cat.doc and cat.default_duration > 0
        assert procedural.is_ambience(name) == (name in AMBIENCES)
        assert cat.controls, name
        for c in cat.controls:
            assert c.doc and c.kind in ("categorical", "continuous")
            if c.kind == "categorical":
                assert len(c.choices) >= 2 and c.default in c.choices and c.range is None
            else:
                assert c.low < c.high and c.low <= c.default <= c.high
                assert c.range == (c.low, c.high)
            assert c.name in c.describe() and c.doc in c.describe()
        assert name in cat.describe()
    impact = procedural.CATEGORIES["impact"]
    assert impact.control("material").choices == ("wood", "metal", "glass", "stone", "plastic")
    assert set(procedural.CATEGORIES["footstep"].control("surface").choices) == {
        "gravel", "wood", "grass", "concrete", "snow", "metal"}
    assert procedural.CATEGORIES["character_action"].control("action").choices == (
        "jump", "land", "swing", "cloth")
    assert procedural.CATEGORIES["ui"].control("kind").choices == (
        "click", "hover", "confirm", "error")
    assert procedural.CATEGORIES["door"].control("action").choices == ("creak", "slam")
    names = procedural.control_names()
    assert len(names) == len(set(names))
    assert {c.name for cat in procedural.CATEGORIES.values() for c in cat.controls} == set(names)


@pytest.mark.parametrize("call, pattern", [
    (lambda: gen("thunder"), r"unknown category 'thunder'.*impact.*rain"),
    (lambda: gen("impact", colour=1), r"impact has no control 'colour'.*material, velocity, size"),
    (lambda: gen("impact", velocity=12.0), r"'velocity' must be in \[0\.2, 10\] m/s.*12"),
    (lambda: gen("impact", velocity=0.0), r"'velocity' must be in \[0\.2, 10\]"),
    (lambda: gen("impact", velocity=float("nan")), r"'velocity' must be in"),
    (lambda: gen("impact", velocity="fast"), r"'velocity' must be a number"),
    (lambda: gen("impact", velocity=True), r"'velocity' must be a number"),
    (lambda: gen("impact", material="gold"),
     r"'material' must be one of wood, metal, glass, stone, plastic; got 'gold'"),
    (lambda: gen("rain", intensity=-0.1), r"rain control 'intensity' must be in \[0, 1\]"),
    (lambda: gen("wind", gustiness=1.5), r"'gustiness' must be in \[0, 1\]"),
    (lambda: gen("ui", pitch=13), r"'pitch' must be in \[-12, 12\] semitones"),
    (lambda: gen("footstep", surface="lava"), r"'surface' must be one of gravel, wood"),
    (lambda: gen("explosion", distance=1.0), r"'distance' must be in \[5, 2000\] m"),
    (lambda: gen("impact", seed=-1), r"seed must be in \[0, 2\*\*63\)"),
    (lambda: gen("impact", seed=1.5), r"seed must be an integer"),
    (lambda: gen("impact", duration=0.0), r"duration must be in \(0, 3600\] s"),
    (lambda: gen("impact", duration=float("inf")), r"duration must be in"),
    (lambda: gen("impact", duration="1s"), r"duration must be a number"),
    (lambda: procedural.generate("impact", sr=100), r"sr must be an integer in \[8000, 192000\]"),
    (lambda: procedural.generate("impact", sr=44100.5), r"sr must be an integer"),
    (lambda: procedural.stream("impact"), r"impact is a one-shot; stream\(\) is for ambiences"),
    (lambda: procedural.sample_controls("nope"), r"unknown category 'nope'"),
    (lambda: procedural.stream("rain").read(-1), r"read\(\) needs a sample count >= 0"),
])
def test_bad_arguments_raise_value_error_naming_the_problem(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_sample_controls_are_valid_reproducible_and_cover_the_choices():
    for name, cat in procedural.CATEGORIES.items():
        rng = np.random.default_rng(7)
        draws = [procedural.sample_controls(name, rng) for _ in range(40)]
        for d in draws:
            assert cat.validate(d) == d
        assert draws[0] == procedural.sample_controls(name, np.random.default_rng(7))
        for c in cat.controls:
            values = [d[c.name] for d in draws]
            if c.kind == "categorical":
                assert set(values) == set(c.choices), (name, c.name)
            else:
                assert len(set(values)) > 30, (name, c.name)
                assert all(v == float(f"{v:.4g}") for v in values)  # exact in labels.csv
    # Log-scaled controls (ratios) are drawn log-uniformly: the median sits near the
    # geometric mean of the range.
    v = procedural.CATEGORIES["explosion"].control("distance")
    med = np.median([v.sample(np.random.default_rng(s)) for s in range(400)])
    assert 0.5 < med / np.sqrt(v.low * v.high) < 2.0


# --- output safety and determinism ----------------------------------------------------------

@pytest.mark.parametrize("category", list(procedural.CATEGORIES))
def test_random_controls_give_finite_unclipped_audible_audio(category):
    cat = procedural.CATEGORIES[category]
    duration = 2.0 if cat.ambience else None
    for k in range(3):
        controls = procedural.sample_controls(category, np.random.default_rng(100 + k))
        x = gen(category, seed=k, duration=duration, **controls)
        n = int(round((duration or cat.default_duration) * SR))
        assert x.dtype == np.float32 and x.shape == (n,), controls
        assert np.all(np.isfinite(x)), controls
        assert np.max(np.abs(x)) < 1.0, controls
        assert peak_db(x) > -50.0 and rms_db(x) > -80.0, controls  # not silent


@pytest.mark.parametrize("category", ONE_SHOTS)
def test_one_shot_levels_at_the_defaults_are_sensible(category):
    for seed in SEEDS:
        assert -9.0 <= peak_db(gen(category, seed)) <= -1.0


@pytest.mark.parametrize("category", AMBIENCES)
def test_ambience_levels_at_the_defaults_are_sensible(category):
    x = gen(category, 0, duration=5.0)
    assert -40.0 <= rms_db(x) <= -18.0 and -20.0 <= peak_db(x) <= -3.0


@pytest.mark.parametrize("category", list(procedural.CATEGORIES))
def test_same_seed_same_sound_bit_for_bit_other_seeds_differ(category):
    duration = 1.0 if procedural.is_ambience(category) else None
    controls = procedural.sample_controls(category, 3)
    a = gen(category, 5, duration, **controls)
    b = gen(category, 5, duration, **controls)
    assert a.tobytes() == b.tobytes()
    c = gen(category, 6, duration, **controls)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("sr", [16000, 44100, 96000])
def test_other_sample_rates(sr):
    for name, cat in procedural.CATEGORIES.items():
        x = procedural.generate(name, seed=1, duration=0.5, sr=sr)
        assert x.shape == (sr // 2,) and np.all(np.isfinite(x)) and np.max(np.abs(x)) < 1.0
        assert rms_db(x) > -80.0, name


@pytest.mark.parametrize("category", list(procedural.CATEGORIES))
def test_tiny_durations(category):
    for duration in (1.0 / SR, 0.001, 0.02):
        x = gen(category, 1, duration, **procedural.sample_controls(category, 1))
        assert x.shape == (max(1, round(duration * SR)),)
        assert np.all(np.isfinite(x)) and np.max(np.abs(x)) < 1.0


def test_one_shot_duration_cuts_or_extends_the_same_sound():
    long = gen("impact", 2, 2.0, material="metal")
    short = gen("impact", 2, 0.05, material="metal")
    assert long.shape == (96000,) and short.shape == (2400,)
    assert np.max(np.abs(short[-10:])) < 0.05 * np.max(np.abs(short))  # faded, not cut
    assert np.allclose(long[:1200] / np.max(np.abs(long)), short[:1200] / np.max(np.abs(short)),
                       atol=1e-5)


@pytest.mark.parametrize("category", AMBIENCES)
def test_ambience_stream_is_independent_of_how_it_is_read(category):
    whole = gen(category, 4, 1.5)
    s = procedural.stream(category, seed=4)
    parts, sizes = [], [1, 999, 16384, 17, 30000]
    for size in sizes:
        parts.append(s.read(size))
    parts.append(s.read(len(whole) - sum(sizes)))
    assert np.concatenate(parts).tobytes() == whole.tobytes()
    assert gen(category, 4, 0.7).tobytes() == whole[:33600].tobytes()  # prefix


# --- ambiences: no repetition, stationary level, long renders --------------------------------

def max_block_correlation(x: np.ndarray, block: int = SR) -> float:
    """Largest normalised cross-correlation, over all lags, between any two distinct
    ``block``-sample blocks of ``x``."""
    m = len(x) // block
    blocks = np.asarray(x[:m * block], np.float64).reshape(m, block)
    blocks -= blocks.mean(axis=1, keepdims=True)
    spectra = np.fft.rfft(blocks, 2 * block, axis=1)
    norms = np.linalg.norm(blocks, axis=1)
    best = 0.0
    for i, j in combinations(range(m), 2):
        xc = np.fft.irfft(spectra[i] * np.conj(spectra[j]), 2 * block)
        best = max(best, float(np.max(np.abs(xc)) / (norms[i] * norms[j])))
    return best


@pytest.fixture(scope="module")
def ambience_20s():
    return {name: gen(name, 11, 20.0) for name in AMBIENCES}


@pytest.mark.parametrize("category", AMBIENCES)
def test_ambience_does_not_repeat(ambience_20s, category):
    assert max_block_correlation(ambience_20s[category]) < 0.5


@pytest.mark.parametrize("category", AMBIENCES)
def test_ambience_level_is_stationary(ambience_20s, category):
    x = ambience_20s[category]
    half = len(x) // 2
    # Wind's gusts (at the default gustiness) move 10 s averages by up to ~5 dB; the
    # particle ambiences stay within ~2.5 dB (seeds 0-9).
    assert abs(rms_db(x[:half]) - rms_db(x[half:])) < 6.0
    levels = [rms_db(b) for b in x.reshape(10, -1)]  # 2 s blocks
    assert max(levels) - np.median(levels) < 8.0 and np.median(levels) - min(levels) < 10.0


def test_three_minute_ambience_streams_in_bounded_blocks():
    s = procedural.stream("fire", seed=2, intensity=0.7)
    levels = [rms_db(s.read(10 * SR)) for _ in range(18)]
    assert max(levels) - min(levels) < 4.0
    assert len(s._pending) < 16384  # only a partial block is ever held back


# --- each control does what its name says -------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_metal_rings_longer_than_wood(seed):
    for size in (0.1, 0.3, 1.0):
        metal = decay_time(gen("impact", seed, material="metal", size=size))
        wood = decay_time(gen("impact", seed, material="wood", size=size))
        assert metal > 3.0 * wood, (size, metal, wood)
        glass = decay_time(gen("impact", seed, material="glass", size=size))
        stone = decay_time(gen("impact", seed, material="stone", size=size))
        assert glass > 2.0 * stone, (size, glass, stone)


@pytest.mark.parametrize("material", ["wood", "metal", "glass", "stone", "plastic"])
def test_faster_impact_is_louder_and_brighter(material):
    for seed in SEEDS:
        soft = gen("impact", seed, material=material, velocity=0.5)
        hard = gen("impact", seed, material=material, velocity=5.0)
        assert rms_db(hard) > rms_db(soft) + 8.0
        # The centroid moves little when one low mode holds most of the power, so the
        # energy above 4 kHz (contact noise, high modes) is checked as well.
        assert centroid(hard) > 1.1 * centroid(soft)
        assert hf_share(hard, 4000.0) > 3.0 * hf_share(soft, 4000.0)


@pytest.mark.parametrize("material", ["wood", "metal", "glass", "stone", "plastic"])
def test_larger_object_is_lower_pitched(material):
    for seed in SEEDS:
        small = gen("impact", seed, material=material, size=0.1)
        large = gen("impact", seed, material=material, size=1.0)
        assert centroid(large) < 0.7 * centroid(small)
        assert dominant(large) < 0.7 * dominant(small)


@pytest.mark.parametrize("seed", SEEDS)
def test_more_rain_means_more_drops_and_more_energy(seed):
    light = gen("rain", seed, 4.0, intensity=0.1)
    heavy = gen("rain", seed, 4.0, intensity=0.6)
    assert onsets(heavy, 0.02) > 2 * onsets(light, 0.02) > 0
    assert rms_db(heavy) > rms_db(light) + 6.0


@pytest.mark.parametrize("seed", SEEDS)
def test_stronger_wind_has_more_energy_gustier_wind_varies_more(seed):
    assert rms_db(gen("wind", seed, 4.0, strength=0.8)) > rms_db(
        gen("wind", seed, 4.0, strength=0.2)) + 6.0
    steady = np.std(envelope_db(gen("wind", seed, 10.0, gustiness=0.0), 4800))
    gusty = np.std(envelope_db(gen("wind", seed, 10.0, gustiness=1.0), 4800))
    assert gusty > 2.0 * steady


@pytest.mark.parametrize("kind", ["click", "hover", "confirm", "error"])
def test_ui_pitch_raises_the_dominant_frequency(kind):
    for seed in SEEDS:
        low = dominant(gen("ui", seed, kind=kind, pitch=-5.0))
        high = dominant(gen("ui", seed, kind=kind, pitch=7.0))
        assert 1.8 < high / low < 2.2  # an octave, give or take the seed's detune


@pytest.mark.parametrize("seed", SEEDS)
def test_distant_explosion_is_quieter_and_duller(seed):
    near = gen("explosion", seed, distance=20.0)
    far = gen("explosion", seed, distance=500.0)
    assert rms_db(far) < rms_db(near) - 6.0
    assert centroid(far) < 0.85 * centroid(near)
    assert hf_share(far) < 0.4 * hf_share(near)


@pytest.mark.parametrize("seed", SEEDS)
def test_larger_explosion_is_lower_and_longer(seed):
    small = gen("explosion", seed, size=0.1)
    large = gen("explosion", seed, size=0.9)
    assert centroid(large) < 0.8 * centroid(small)
    assert decay_time(large, 20.0) > 1.5 * decay_time(small, 20.0)


@pytest.mark.parametrize("surface", ["gravel", "wood", "grass", "concrete", "snow", "metal"])
def test_footstep_force_raises_level_and_pace_tightens_the_step(surface):
    for seed in SEEDS:
        light = gen("footstep", seed, surface=surface, force=0.1)
        heavy = gen("footstep", seed, surface=surface, force=0.9)
        assert rms_db(heavy) > rms_db(light) + 6.0
        if surface in ("gravel", "concrete", "snow"):  # elsewhere ring or swish hide the roll
            walk = energy_time(gen("footstep", seed, surface=surface, pace=1.0))
            run = energy_time(gen("footstep", seed, surface=surface, pace=4.0))
            assert run < 0.9 * walk


# (category, fixed controls, control, low value, high value, what goes up with it)
MONOTONE = [
    ("fire", {}, "intensity", 0.1, 0.9, "level"),
    ("fire", {}, "intensity", 0.1, 0.9, "onsets"),
    ("water_stream", {}, "flow", 0.1, 0.9, "level"),
    ("city_street", {}, "traffic_density", 0.05, 0.95, "level"),
    ("whoosh", {}, "speed", 3.0, 30.0, "level"),
    ("whoosh", {}, "speed", 3.0, 30.0, "brightness"),
    ("whoosh", {}, "size", 1.5, 0.1, "brightness"),
    ("glass_break", {}, "force", 0.1, 0.9, "level"),
    ("glass_break", {}, "size", 0.2, 1.4, "shards"),
    ("door", {"action": "slam"}, "speed", 0.1, 0.9, "level"),
    ("door", {"action": "creak"}, "speed", 0.1, 0.9, "pitch"),
    ("character_action", {"action": "jump"}, "intensity", 0.1, 0.9, "level"),
    ("character_action", {"action": "land"}, "intensity", 0.1, 0.9, "level"),
    ("character_action", {"action": "swing"}, "intensity", 0.1, 0.9, "level"),
    ("character_action", {"action": "cloth"}, "intensity", 0.1, 0.9, "level"),
]


def creak_pitch(x: np.ndarray, sr: int = SR) -> float:
    """Slip rate (Hz) of a creak, heard as its pitch: the period of the rectified signal
    (the train of slips) over its loudest 0.2 s, searched between 35 and 400 Hz."""
    env = envelope_db(x)
    i = int(np.argmax(np.convolve(env, np.ones(20), "valid"))) * 480
    seg = np.abs(np.asarray(x[i:i + sr // 5], np.float64))
    seg -= seg.mean()
    ac = np.fft.irfft(np.abs(np.fft.rfft(seg, 2 * len(seg))) ** 2)
    lo, hi = sr // 400, sr // 35
    return sr / (lo + int(np.argmax(ac[lo:hi])))


MEASURES = {
    "level": (rms_db, lambda lo, hi: hi > lo + 4.0),
    "brightness": (centroid, lambda lo, hi: hi > 1.2 * lo),
    "onsets": (lambda x: onsets(x, 0.05), lambda lo, hi: hi > 2 * lo),
    "shards": (lambda x: onsets(x, 0.003 * np.max(np.abs(x))), lambda lo, hi: hi > 1.3 * lo),
    "pitch": (creak_pitch, lambda lo, hi: hi > 1.5 * lo),
}


@pytest.mark.parametrize("category, fixed, control, low, high, measure", MONOTONE,
                         ids=[f"{m[0]}-{m[2]}-{m[5]}" for m in MONOTONE])
def test_control_moves_its_measure(category, fixed, control, low, high, measure):
    f, holds = MEASURES[measure]
    duration = 4.0 if procedural.is_ambience(category) else None
    for seed in SEEDS:
        a = f(gen(category, seed, duration, **fixed, **{control: low}))
        b = f(gen(category, seed, duration, **fixed, **{control: high}))
        assert holds(a, b), (seed, a, b)

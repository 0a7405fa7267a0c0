"""SoundFolder: real files in every supported format and rate, every kind of bad input, the
feature cache and `foleykit dataset inspect`.

The folders are written here with soundfile (WAV, FLAC, OGG/Vorbis, MP3) from tone bursts
whose length, frequency and silences are known, so the tests can check that each good file
came out mono, at 48 kHz (the tone's frequency survives resampling), DC-free and trimmed.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import soundfile as sf

from foleykit.data import SoundFolder
from foleykit.data import audio_io, folder as folder_mod
from foleykit.data.inspect import add_dataset_parser, run_dataset

SR = 48000
BURST = 0.25  # seconds of tone in every good file
LEAD, TAIL = 0.2, 0.3  # seconds of silence around it
MARGIN = 0.005  # Preprocess.margin_ms

# relative path -> (sample rate, channels, format, subtype, tone Hz)
GOOD: Dict[str, tuple] = {
    "impact/a_44k_stereo.wav": (44100, 2, "WAV", "PCM_16", 1000.0),
    "impact/b_96k.flac": (96000, 1, "FLAC", "PCM_24", 1500.0),
    "impact/c_22k_stereo.ogg": (22050, 2, "OGG", "VORBIS", 800.0),
    "impact/d_44k.mp3": (44100, 1, "MP3", "MPEG_LAYER_III", 1200.0),
    "impact/e_48k_float.wav": (48000, 1, "WAV", "FLOAT", 2000.0),
    "rain/r1.wav": (44100, 2, "WAV", "PCM_16", 3000.0),
    "rain/r2_22k.ogg": (22050, 1, "OGG", "VORBIS", 600.0),
    "rain/r3.mp3": (48000, 2, "MP3", "MPEG_LAYER_III", 900.0),
    "rain/take2/r4_96k_stereo.flac": (96000, 2, "FLAC", "PCM_16", 4000.0),
}
LOSSY = (".ogg", ".mp3")


def burst(sr: int, hz: float, amp: float = 0.5, dc: float = 0.0, seconds: float = BURST,
          lead: float = LEAD, tail: float = TAIL) -> np.ndarray:
    """Silence, a tone with 2 ms raised-cosine edges, silence; plus a DC offset."""
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    tone = amp * np.sin(2 * np.pi * hz * t)
    ramp = max(int(0.002 * sr), 1)
    edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    tone[:ramp] *= edge
    tone[-ramp:] *= edge[::-1]
    x = np.concatenate([np.zeros(int(lead * sr)), tone, np.zeros(int(tail * sr))])
    return (x + dc).astype(np.float32)


def write_good(root: Path, rel: str, spec: tuple, dc: float = 0.02) -> None:
    sr, ch, fmt, sub, hz = spec
    x = burst(sr, hz, dc=dc if fmt in ("WAV", "FLAC") else 0.0)
    data = np.stack([x, 0.8 * x], axis=1) if ch == 2 else x
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(root / rel), data, sr, format=fmt, subtype=sub)


def write_bad(root: Path) -> Dict[str, str]:
    """The bad files; returns relative path -> a phrase its report reason must contain."""
    imp = root / "impact"
    imp.mkdir(parents=True, exist_ok=True)
    (imp / "empty.flac").write_bytes(b"")
    (imp / "text.wav").write_text("this is not audio\n" * 20)
    rng = np.random.default_rng(0)
    (imp / "garbage.wav").write_bytes(b"RIFF" + rng.integers(0, 256, 4000, np.uint8).tobytes())
    good = io.BytesIO()
    sf.write(good, rng.uniform(-0.5, 0.5, 48000).astype(np.float32), 48000, format="FLAC")
    (imp / "truncated.flac").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    sf.write(str(imp / "silence.wav"), np.zeros(24000, np.float32), 48000)
    sf.write(str(imp / "rate100.wav"), burst(100, 10.0), 100)
    sf.write(str(imp / "rate10M.wav"), burst(10_000_000, 1000.0, seconds=0.01, lead=0.001,
                                             tail=0.001), 10_000_000)
    nan = burst(48000, 1000.0)
    nan[12000] = np.nan
    sf.write(str(imp / "nan.wav"), nan, 48000, subtype="FLOAT")
    severe = np.clip(3.0 * np.sin(2 * np.pi * 200 * np.arange(24000) / 48000), -1, 1)
    sf.write(str(imp / "clipped_severe.wav"), severe.astype(np.float32), 48000)
    x = burst(48000, 700.0)
    sf.write(str(imp / "cancel.wav"), np.stack([x, -x], axis=1), 48000)
    sf.write(str(root / "stray.wav"), burst(48000, 500.0), 48000)  # no category folder
    return {
        "impact/empty.flac": "empty file",
        "impact/text.wav": "not a readable audio file",
        "impact/garbage.wav": "not a readable audio file",
        "impact/truncated.flac": "not a readable audio file",
        "impact/silence.wav": "silent",
        "impact/rate100.wav": "sample rate 100 Hz",
        "impact/rate10M.wav": "sample rate 10000000 Hz",
        "impact/nan.wav": "NaN",
        "impact/clipped_severe.wav": "severely clipped",
        "impact/cancel.wav": "channels cancel",
        "stray.wav": "not in a category folder",
    }


def write_mild_clip(root: Path) -> str:
    x = burst(48000, 1000.0)
    start = int((LEAD + 0.1) * 48000)
    x[start:start + 240] *= 3.0  # 5 ms over full scale inside the burst
    rel = "impact/clipped_mild.wav"
    sf.write(str(root / rel), np.clip(x, -1, 1), 48000, subtype="PCM_16")
    return rel


LABELS = """file,category,velocity[0:10],size
impact/a_44k_stereo.wav,,5,1.0
impact/b_96k.flac,,abc,2
impact/c_22k_stereo.ogg,,nan,
impact/d_44k.mp3,,42,3
impact/missing.wav,,1,1
rain/r1.wav,,2,inf
impact/clipped_mild.wav,,7,
"""


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A folder with every good format and every kind of bad file, scanned once."""
    root = tmp_path_factory.mktemp("sounds")
    for rel, spec in GOOD.items():
        write_good(root, rel, spec)
    bad = write_bad(root)
    mild = write_mild_clip(root)
    (root / "labels.csv").write_text(LABELS)
    (root / "notes.txt").write_text("recorded in the garage")
    (root / "impact" / ".DS_Store").write_bytes(b"\0\1")
    locked = "impact/locked.wav"
    sf.write(str(root / locked), burst(48000, 1000.0), 48000)

    real_digest = folder_mod.file_digest

    def digest(path):
        # Tests run as root, who can read a chmod-000 file: refuse it the way open() would.
        if Path(path).name == "locked.wav":
            raise PermissionError(13, "Permission denied", str(path))
        return real_digest(path)

    mp = pytest.MonkeyPatch()
    mp.setattr(folder_mod, "file_digest", digest)
    try:
        f = SoundFolder(root, cache_dir=tmp_path_factory.mktemp("cache"))
    finally:
        mp.undo()
    bad[locked] = "permission denied"
    return root, f, bad, mild


def reasons(f: SoundFolder, file: str):
    return [r for fl, r in f.report if fl == file]


# -- good files -----------------------------------------------------------------------------

def test_every_good_file_is_present(messy):
    root, f, bad, mild = messy
    files = {it.file for it in f}
    assert files == set(GOOD) | {mild}
    assert f.categories == ["impact", "rain"]
    assert {it.file for it in f.by_category()["rain"]} == {k for k in GOOD if k.startswith("rain")}
    assert len(f) == len(GOOD) + 1


@pytest.mark.parametrize("rel", sorted(GOOD))
def test_good_file_is_mono_48k_dc_free_and_trimmed(messy, rel):
    _, f, _, _ = messy
    sr, ch, fmt, _, hz = GOOD[rel]
    it = next(i for i in f if i.file == rel)
    a = it.audio
    assert a.dtype == np.float32 and a.ndim == 1
    assert (it.source_sr, it.source_channels) == (sr, ch)
    assert it.duration == pytest.approx(a.size / SR)
    # Trimmed: the burst plus a margin either side; lossy codecs smear a little (pre-echo,
    # encoder delay), lossless files land within a few samples.
    slack = 0.04 if rel.endswith(LOSSY) else 0.003
    assert BURST + 2 * MARGIN - 0.004 <= it.duration <= BURST + 2 * MARGIN + slack
    # Resampled to 48 kHz: the tone is where it was in the source.
    spec = np.abs(np.fft.rfft(a * np.hanning(a.size)))
    peak_hz = np.argmax(spec) * SR / a.size
    assert peak_hz == pytest.approx(hz, abs=2 * SR / a.size)
    # DC removed (WAV and FLAC sources carry +0.02).
    assert abs(float(a.mean())) < 2e-3
    assert a[: int(0.002 * SR)].std() < 0.05  # the margin is quiet, the burst is 0.5
    assert 0.3 < np.abs(a).max() < 0.6
    assert not it.warnings


def test_stereo_is_averaged(messy):
    _, f, _, _ = messy
    it = next(i for i in f if i.file == "impact/a_44k_stereo.wav")
    # Left 0.5, right 0.4: the mono peak is their mean.
    assert np.abs(it.audio).max() == pytest.approx(0.45, abs=0.01)


def test_mel_is_the_native_log_mel(messy):
    from foleykit import dsp

    _, f, _, _ = messy
    it = f[0]
    np.testing.assert_allclose(it.mel, dsp.log_mel(it.audio), rtol=0, atol=1e-6)
    assert it.mel.shape == (80, 1 + it.audio.size // 256)


# -- bad input ------------------------------------------------------------------------------

def test_every_bad_file_is_reported_with_its_reason(messy):
    _, f, bad, _ = messy
    for rel, phrase in bad.items():
        rs = reasons(f, rel)
        assert rs, f"{rel} missing from the report"
        assert any(r.startswith("skipped: ") and phrase in r for r in rs), (rel, rs)
        assert rel in f.skipped
    assert set(f.skipped) == set(bad)


def test_mild_clipping_is_kept_with_a_warning(messy):
    _, f, _, mild = messy
    it = next(i for i in f if i.file == mild)
    assert it.warnings and "clipped" in it.warnings[0]
    assert any(r.startswith("kept: clipped") for r in reasons(f, mild))
    assert mild not in f.skipped


def test_non_audio_files_are_ignored_not_reported(messy):
    _, f, _, _ = messy
    assert f.ignored == ["notes.txt"]
    assert not reasons(f, "notes.txt") and not reasons(f, "impact/.DS_Store")


def test_labels_values_checked_and_files_kept(messy):
    _, f, _, _ = messy
    items = {it.file: it for it in f}
    a = items["impact/a_44k_stereo.wav"]
    assert a.controls["velocity"] == 5 and a.controls["size"] == 1.0 and not a.imputed
    for rel, col, phrase in [("impact/b_96k.flac", "velocity", "not a number"),
                             ("impact/c_22k_stereo.ogg", "velocity", "not finite"),
                             ("impact/d_44k.mp3", "velocity", "outside 0..10"),
                             ("rain/r1.wav", "size", "not finite")]:
        rs = reasons(f, rel)
        assert any(r.startswith("value ignored: labels.csv line") and col in r and phrase in r
                   for r in rs), (rel, rs)
        assert col in items[rel].imputed  # the file stays, the value is the median
    assert items["impact/b_96k.flac"].controls["size"] == 2.0
    labelled_velocity = [5.0, 7.0, 2.0]  # a, clipped_mild, r1; missing.wav is not in the data
    assert items["impact/d_44k.mp3"].controls["velocity"] == np.median(labelled_velocity)
    assert any("file not found" in r for r in reasons(f, "impact/missing.wav"))
    assert "impact/missing.wav" not in {it.file for it in f}


def test_derived_controls_and_knobs(messy):
    _, f, _, _ = messy
    assert set(f.controls) == {"intensity", "brightness", "duration", "velocity", "size"}
    assert f.controls["brightness"].log and f.controls["velocity"].source == "labels"
    for it in f:
        assert set(it.normalized) == set(f.controls)
        assert all(0.0 <= v <= 1.0 for v in it.normalized.values())
        assert it.controls["duration"] == pytest.approx(it.duration)
    for name in ("intensity", "brightness"):
        knobs = [it.normalized[name] for it in f]
        assert min(knobs) == 0.0 and max(knobs) == 1.0
    # Brightness follows the tone; the 4 kHz file is the brightest.
    brightest = max(f, key=lambda it: it.controls["brightness"])
    assert brightest.file == "rain/take2/r4_96k_stereo.flac"
    assert brightest.controls["brightness"] == pytest.approx(4000, rel=0.05)
    # BS.1770 reads a full-scale 1 kHz sine as -3.01 LUFS; this one peaks at 0.45 in mono.
    a = next(it for it in f if it.file == "impact/a_44k_stereo.wav")
    assert a.controls["intensity"] == pytest.approx(-3.01 + 20 * np.log10(0.45), abs=0.3)
    spec = f.controls["velocity"]
    assert spec.denormalize(spec.normalize(6.0)) == pytest.approx(6.0)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads chmod-000 files; the simulated refusal in `messy` covers it")
def test_unreadable_file_chmod(tmp_path):
    root = tmp_path / "s"
    write_good(root, "cat/ok.wav", GOOD["impact/a_44k_stereo.wav"])
    write_good(root, "cat/locked.wav", GOOD["impact/a_44k_stereo.wav"], dc=0.01)
    os.chmod(root / "cat" / "locked.wav", 0)
    try:
        f = SoundFolder(root, cache_dir=False)
    finally:
        os.chmod(root / "cat" / "locked.wav", 0o644)
    assert [it.file for it in f] == ["cat/ok.wav"]
    assert "permission denied" in f.skipped["cat/locked.wav"]


def test_broken_labels_file_does_not_lose_files(tmp_path):
    root = tmp_path / "s"
    write_good(root, "cat/ok.wav", GOOD["impact/a_44k_stereo.wav"])
    (root / "labels.csv").write_text("name;speed\nok.wav;1\n")
    f = SoundFolder(root, cache_dir=False)
    assert [it.file for it in f] == ["cat/ok.wav"]
    assert any("no 'file' column" in r for _, r in f.report)


def test_duplicates_are_kept_and_flagged(tmp_path):
    root = tmp_path / "s"
    write_good(root, "cat/a.wav", GOOD["impact/a_44k_stereo.wav"])
    (root / "other").mkdir()
    shutil.copy(root / "cat" / "a.wav", root / "other" / "copy.wav")
    f = SoundFolder(root, cache_dir=False, workers=2)
    assert [it.file for it in f] == ["cat/a.wav", "other/copy.wav"]
    assert f.report == [("other/copy.wav", "kept: same bytes as cat/a.wav")]


def test_labels_give_category_to_top_level_files(tmp_path):
    root = tmp_path / "s"
    write_good(root, "loose.flac", GOOD["impact/b_96k.flac"])
    (root / "labels.csv").write_text("file;category\nloose.flac;whoosh\n")
    f = SoundFolder(root, cache_dir=False)
    assert [(it.file, it.category) for it in f] == [("loose.flac", "whoosh")]


def test_nothing_usable_is_an_empty_dataset_not_an_error(tmp_path):
    root = tmp_path / "s"
    (root / "cat").mkdir(parents=True)
    (root / "cat" / "x.wav").write_text("nope")
    f = SoundFolder(root, cache_dir=False)
    assert len(f) == 0 and f.controls == {} and "cat/x.wav" in f.skipped
    with pytest.raises(FileNotFoundError):
        SoundFolder(tmp_path / "absent")


def test_bad_feature_settings_are_refused(tmp_path):
    from foleykit import DSPError

    with pytest.raises(DSPError):
        SoundFolder(tmp_path, hop=0, cache_dir=False)
    with pytest.raises(DSPError):
        SoundFolder(tmp_path, n_mels=0, cache_dir=False)


# -- the cache ------------------------------------------------------------------------------

@pytest.fixture
def counted_decodes(monkeypatch):
    calls = []
    real = audio_io.decode

    def decode(path, *a, **k):
        calls.append(Path(path).name)
        return real(path, *a, **k)

    monkeypatch.setattr(audio_io, "decode", decode)
    return calls


def test_cache_skips_decoding_and_is_invalidated(tmp_path, counted_decodes):
    root, cache = tmp_path / "s", tmp_path / "cache"
    for rel in ("impact/a_44k_stereo.wav", "impact/b_96k.flac", "rain/r3.mp3"):
        write_good(root, rel, GOOD[rel])
    (root / "impact" / "text.wav").write_text("not audio")

    first = SoundFolder(root, cache_dir=cache)
    mels = first.features()
    assert sorted(counted_decodes) == ["a_44k_stereo.wav", "b_96k.flac", "r3.mp3", "text.wav"]
    assert first.stats["mel_computed"] == 3

    counted_decodes.clear()
    second = SoundFolder(root, cache_dir=cache)
    again = second.features()
    assert counted_decodes == []  # nothing decoded, not even the broken file
    assert second.stats["decoded"] == 0 and second.stats["mel_computed"] == 0
    assert second.stats["mel_cache_hits"] == 3
    assert second.skipped == first.skipped and second.report == first.report
    for m1, m2 in zip(mels, again):
        np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(first[0].audio, second[0].audio)

    # One changed file: only it is decoded again.
    write_good(root, "impact/b_96k.flac", GOOD["impact/b_96k.flac"], dc=0.01)
    counted_decodes.clear()
    third = SoundFolder(root, cache_dir=cache)
    third.features()
    assert counted_decodes == ["b_96k.flac"] and third.stats["mel_computed"] == 1

    # Renaming keeps the entry: the key is the content.
    shutil.move(root / "rain" / "r3.mp3", root / "rain" / "renamed.mp3")
    counted_decodes.clear()
    SoundFolder(root, cache_dir=cache)
    assert counted_decodes == []

    # Changed feature settings: new features from the cached audio, no decoding.
    fourth = SoundFolder(root, n_mels=64, hop=128, cache_dir=cache)
    m = fourth.features()
    assert counted_decodes == [] and fourth.stats["mel_computed"] == 3
    assert all(x.shape[0] == 64 for x in m)
    assert m[0].shape[1] == 1 + fourth[0].audio.size // 128

    # A changed model rate changes the audio: everything is decoded again.
    fifth = SoundFolder(root, sr=44100, cache_dir=cache)
    assert len(counted_decodes) == 4 and fifth[0].audio.size < first[0].audio.size


def test_damaged_cache_entry_is_a_miss(tmp_path, counted_decodes):
    root, cache = tmp_path / "s", tmp_path / "cache"
    write_good(root, "cat/a.wav", GOOD["impact/a_44k_stereo.wav"])
    SoundFolder(root, cache_dir=cache).features()
    for p in (cache / "mel").glob("*.npy"):
        p.write_bytes(b"garbage")
    for p in (cache / "audio").glob("*.npy"):
        p.unlink()
    counted_decodes.clear()
    f = SoundFolder(root, cache_dir=cache)
    assert f[0].mel.shape[0] == 80 and counted_decodes == ["a.wav"]


# -- foleykit dataset inspect ---------------------------------------------------------------

def run_inspect(argv, capsys):
    parser = argparse.ArgumentParser(prog="foleykit")
    sub = parser.add_subparsers(dest="command")
    add_dataset_parser(sub)
    args = parser.parse_args(argv)
    assert args.run is run_dataset
    rc = args.run(args)
    return rc, capsys.readouterr().out


def test_inspect_prints_a_table_and_the_problems(messy, tmp_path, capsys):
    root, f, bad, mild = messy
    rc, out = run_inspect(["dataset", "inspect", str(root), "--cache-dir",
                           str(tmp_path / "c")], capsys)
    assert rc == 0
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("category"))
    assert "files" in lines[header] and "sample rates" in lines[header]
    rows = {l.split()[0]: l for l in lines[header + 2:header + 6] if l.strip()}
    # a..e, the mildly clipped one, and locked.wav (refused only in the fixture's own scan)
    assert rows["impact"].split()[1] == "7"
    assert "22.05k" in rows["impact"] and "96k" in rows["impact"] and "44.1k" in rows["impact"]
    assert rows["rain"].split()[1] == "4"
    assert rows["(top"].split()[2] == "0"  # stray.wav: a row with no usable file
    for rel in bad:
        if rel != "impact/locked.wav":  # only refused in the fixture's own scan
            assert rel in out
    assert "impact/missing.wav" in out and "not a number" in out and mild in out
    assert "11 usable file(s) in 2 categories" in out


def test_inspect_fails_only_when_nothing_is_usable(tmp_path, capsys):
    root = tmp_path / "s"
    (root / "cat").mkdir(parents=True)
    (root / "cat" / "x.wav").write_text("nope")
    sf.write(str(root / "cat" / "quiet.wav"), np.zeros(4800, np.float32), 48000)
    rc, out = run_inspect(["dataset", "inspect", str(root), "--no-cache"], capsys)
    assert rc == 1 and "cat/x.wav" in out and "silent" in out and "Nothing usable" in out

    rc, out = run_inspect(["dataset", "inspect", str(tmp_path / "absent"), "--no-cache"], capsys)
    assert rc == 1 and "does not exist" in out

    write_good(root, "cat/ok.wav", GOOD["impact/a_44k_stereo.wav"])
    rc, out = run_inspect(["dataset", "inspect", str(root), "--no-cache"], capsys)
    assert rc == 0 and "1 usable file(s)" in out

"""``foleykit render`` and ``foleykit bake``, run in-process through ``foleykit.cli.main`` on
the shipped default models (real exported models; inference takes milliseconds)."""
from __future__ import annotations

import hashlib
import inspect
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from foleykit.cli import main
from foleykit.models import default
from foleykit.runtime import Runtime

SR = 48000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def render(tmp_path: Path, *args: str, name: str = "out.wav") -> np.ndarray:
    out = tmp_path / name
    assert main(["render", *args, "-o", str(out)]) == 0
    x, sr = sf.read(str(out), dtype="float32")
    assert sr == SR and x.ndim == 1
    return x


@pytest.fixture(scope="module")
def oneshots() -> Runtime:
    with warnings.catch_warnings():  # "native runtime unavailable" where it is not built
        warnings.simplefilter("ignore", RuntimeWarning)
        return Runtime(default.path("oneshots"))


def peak_db(x: np.ndarray) -> float:
    return 20 * math.log10(float(np.max(np.abs(x))))


# -- render -----------------------------------------------------------------------------------

def test_render_writes_a_sounding_wav(tmp_path, capsys):
    x = render(tmp_path, "oneshots", "--control", "category=impact", "--control",
               "velocity=6", "--seed", "3")
    assert np.isfinite(x).all() and x.size > 0
    assert peak_db(x) > -40.0
    assert sf.info(str(tmp_path / "out.wav")).subtype == "FLOAT"
    out = capsys.readouterr().out
    assert "out.wav" in out and "dBFS" in out and " s," in out
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary file


def test_render_is_deterministic_in_the_seed(tmp_path):
    args = ("oneshots", "-c", "category=footstep", "-c", "surface=gravel")
    a = render(tmp_path, *args, "--seed", "5", name="a.wav")
    b = render(tmp_path, *args, "--seed", "5", name="b.wav")
    c = render(tmp_path, *args, "--seed", "6", name="c.wav")
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_controls_change_the_sound(tmp_path):
    ui = render(tmp_path, "oneshots", "-c", "category=ui", "--seed", "1", name="ui.wav")
    boom = render(tmp_path, "oneshots", "-c", "category=explosion", "--seed", "1",
                  name="boom.wav")
    assert boom.size > 2 * ui.size  # an explosion rings far longer than a UI click


def test_render_pcm24_and_png(tmp_path, capsys):
    png = tmp_path / "pics" / "out.png"  # a missing folder is created
    render(tmp_path, "oneshots", "-c", "category=glass_break", "--seed", "2", "--format",
           "pcm24", "--png", str(png))
    assert sf.info(str(tmp_path / "out.wav")).subtype == "PCM_24"
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    assert str(png) in capsys.readouterr().out


def test_ambience_renders_the_seconds_asked(tmp_path):
    x = render(tmp_path, "ambiences", "-c", "category=rain", "--seconds", "2", "--seed", "4")
    assert x.size == 2 * SR
    assert np.isfinite(x).all() and peak_db(x) > -40.0


@pytest.mark.parametrize("control, named", [
    ("colour=red", "colour"),              # unknown control
    ("velocity=fast", "velocity"),         # not a number
    ("velocity=99", "velocity"),           # outside its range
    ("material=gold", "material"),         # not a choice
    ("velocity", "NAME=VALUE"),            # no '='
])
def test_bad_controls_exit_2_naming_the_control(tmp_path, capsys, control, named):
    out = tmp_path / "never.wav"
    assert main(["render", "oneshots", "--control", control, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert named in err
    if named != "NAME=VALUE":
        assert "categorical" in err and "continuous" in err  # the control listing follows
    assert not out.exists()


def test_list_controls_and_usage_errors(tmp_path, capsys, oneshots):
    assert main(["render", "oneshots", "--list-controls"]) == 0
    listing = capsys.readouterr().out
    for name in oneshots.schema.names:
        assert name in listing
    assert "0.2 .. 10 m/s (log)" in listing and "wood, metal" in listing
    assert main(["render", "oneshots"]) == 2  # no -o
    assert main(["render", "no_such_model", "-o", str(tmp_path / "x.wav")]) == 2
    assert "oneshots" in capsys.readouterr().err  # says which default names exist
    assert main(["render", "ambiences", "--method", "griffin_lim",
                 "-o", str(tmp_path / "x.wav")]) == 2


def test_backend_is_passed_through_when_the_runtime_takes_one(tmp_path):
    takes = "backend" in inspect.signature(Runtime).parameters
    rc = main(["render", "oneshots", "--backend", "onnxruntime", "-o", str(tmp_path / "o.wav")])
    assert rc == (0 if takes else 2)
    if takes:
        x, _ = sf.read(str(tmp_path / "o.wav"), dtype="float32")
        assert np.isfinite(x).all() and peak_db(x) > -40.0


# -- bake -------------------------------------------------------------------------------------

BAKE = ["bake", "oneshots", "-n", "4", "-c", "category=impact", "--vary", "velocity=1:6",
        "--vary", "material=wood,metal", "--seed-start", "10", "--no-progress"]


def bake(out: Path, *extra: str) -> int:
    return main([*BAKE, "-o", str(out), *extra])


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def mtimes(out: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")}


def test_bake_writes_files_and_manifest(tmp_path, capsys, oneshots):
    out = tmp_path / "baked"
    assert bake(out) == 0
    names = [f"impact_{i:03d}_seed{10 + i}.wav" for i in range(4)]
    assert sorted(p.name for p in out.glob("*.wav")) == names
    man = manifest(out)
    assert man["content_hash"] == oneshots.meta["content_hash"]
    assert man["sample_rate"] == SR and man["model"] == "oneshots"
    assert man["command"].startswith("foleykit bake oneshots -n 4")
    assert [f["name"] for f in man["files"]] == names
    assert [f["seed"] for f in man["files"]] == [10, 11, 12, 13]
    for f in man["files"]:
        data = (out / f["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        x, sr = sf.read(str(out / f["name"]), dtype="float32")
        assert sr == SR and x.size == f["samples"]
        assert f["duration"] == pytest.approx(x.size / SR, abs=1e-6)
        assert f["peak_dbfs"] == pytest.approx(peak_db(x), abs=0.01) and f["peak_dbfs"] > -40
        c = f["controls"]
        assert c["category"] == "impact"
        assert 1.0 <= c["velocity"] <= 6.0
        assert c["material"] == ("wood", "metal")[f["seed"] % 2]  # cycles by seed
        # the recorded controls reproduce the file
        y = oneshots.render(c, seed=f["seed"])
        assert np.array_equal(x, y)
    assert len({f["controls"]["velocity"] for f in man["files"]}) == 4
    assert "4 rendered" in capsys.readouterr().out


def test_bake_rerun_skips_and_redoes_only_damaged_files(tmp_path, capsys):
    out = tmp_path / "baked"
    assert bake(out) == 0
    before, man_before = mtimes(out), manifest(out)
    capsys.readouterr()
    assert bake(out) == 0
    assert "4 skipped" in capsys.readouterr().out
    assert mtimes(out) == before  # nothing rewritten
    assert manifest(out) == man_before

    gone, bad = "impact_001_seed11.wav", "impact_002_seed12.wav"
    (out / gone).unlink()
    data = (out / bad).read_bytes()
    (out / bad).write_bytes(data[: len(data) // 2])  # a partial file
    bad_mtime = (out / bad).stat().st_mtime_ns
    assert bake(out) == 0
    text = capsys.readouterr().out
    assert "2 skipped" in text and "2 rendered" in text
    after = mtimes(out)
    for name in before:
        if name in (gone, bad):
            continue
        assert after[name] == before[name]
    assert after[bad] != bad_mtime
    assert manifest(out) == man_before  # the same sounds again, byte for byte
    assert (out / bad).read_bytes() == data


def test_vary_is_deterministic_per_seed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert bake(a) == 0
    # a bake that starts later draws the same values for the seeds the two share
    assert main(["bake", "oneshots", "-n", "2", "-c", "category=impact", "--vary",
                 "velocity=1:6", "--vary", "material=wood,metal", "--seed-start", "12",
                 "--no-progress", "-o", str(b)]) == 0
    va = {f["seed"]: f["controls"] for f in manifest(a)["files"]}
    vb = {f["seed"]: f["controls"] for f in manifest(b)["files"]}
    assert vb == {s: va[s] for s in (12, 13)}


def test_bake_refuses_another_models_manifest(tmp_path, capsys):
    out = tmp_path / "baked"
    assert bake(out) == 0
    capsys.readouterr()
    amb = ["bake", "ambiences", "-n", "1", "--seconds", "0.5", "--no-progress", "-o", str(out)]
    assert main(amb) == 2
    err = capsys.readouterr().err
    assert "another model" in err and "--force" in err
    assert manifest(out)["model"] == "oneshots"
    assert main(amb + ["--force"]) == 0
    man = manifest(out)
    assert man["model"] == "ambiences" and [f["name"] for f in man["files"]] == \
        ["ambiences_000_seed0.wav"]
    x, _ = sf.read(str(out / "ambiences_000_seed0.wav"))
    assert x.size == SR // 2


@pytest.mark.parametrize("extra, named", [
    (["--vary", "colour=1:2"], "colour"),
    (["--vary", "velocity=20:30"], "velocity"),
    (["--vary", "velocity=5:2"], "LO <= HI"),
    (["--vary", "material=wood,gold"], "material"),
    (["--vary", "material=a:b"], "material"),
    (["--control", "material=wood", "--vary", "material=wood,metal"], "material"),
    (["--prefix", "../escape"], "--prefix"),
])
def test_bake_bad_arguments_exit_2(tmp_path, capsys, extra, named):
    out = tmp_path / "baked"
    assert main(["bake", "oneshots", "-n", "2", "-o", str(out), *extra]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("wav_format", ["float32", "pcm24"])
def test_wav_bytes_depend_on_the_samples_only(wav_format):
    """The same samples give the same file bytes whenever they are written: libsndfile's PEAK
    chunk (float WAVs) records the time of writing, which made a re-baked file's sha256 differ
    from the manifest's now and then."""
    import io

    from foleykit.cli import render as R

    audio = (np.sin(np.arange(4801) * 0.05) * 0.5).astype(np.float32)
    data = R.wav_bytes(audio, 48000, wav_format)
    assert b"PEAK" not in data
    assert int.from_bytes(data[4:8], "little") == len(data) - 8  # RIFF size still right
    back, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == 48000 and back.shape == audio.shape
    if wav_format == "float32":
        np.testing.assert_array_equal(back, audio)

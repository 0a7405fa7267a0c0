"""The corpus writer: files on disk, labels that match them, determinism, the contact sheet
and the ``foleykit corpus`` arguments."""
from __future__ import annotations

import argparse
import csv
import json
import struct

import numpy as np
import pytest
import soundfile as sf

import foleykit.data.procedural as procedural
from foleykit.data import corpus

PER_CLASS = 2
AMBIENCE_S = 1.0


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    labels = corpus.write_corpus(out, PER_CLASS, seed=7, progress=False,
                                 duration_ambience=AMBIENCE_S)
    with open(labels, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return out, labels, rows


def test_files_exist_as_48k_mono_wav(written):
    out, labels, rows = written
    assert labels == out / "labels.csv"
    assert len(rows) == PER_CLASS * len(procedural.CATEGORIES)
    for row in rows:
        path = out / row["file"]
        assert path.parent.name == row["category"]
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.format, info.subtype) == (
            48000, 1, "WAV", "PCM_16")
        cat = procedural.CATEGORIES[row["category"]]
        seconds = AMBIENCE_S if cat.ambience else cat.default_duration
        assert info.frames == round(seconds * 48000)
        x, _ = sf.read(str(path), dtype="float32")
        assert np.max(np.abs(x)) > 1e-3  # audible, and PCM_16 cannot exceed full scale


def test_labels_have_one_column_per_control_and_match_the_files(written):
    out, labels, rows = written
    with open(labels, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == ["file", "category", *procedural.control_names()]
    assert [r["category"] for r in rows] == [c for c in procedural.CATEGORIES
                                              for _ in range(PER_CLASS)]
    meta = json.loads((out / "corpus.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 7 and meta["per_class"] == PER_CLASS and meta["sr"] == 48000
    seeds = {item["file"]: item["seed"] for item in meta["items"]}
    for row in rows:
        cat = procedural.CATEGORIES[row["category"]]
        own = set(cat.control_names)
        assert all(row[k] == "" for k in header[2:] if k not in own), row
        controls = {}
        for c in cat.controls:
            controls[c.name] = row[c.name] if c.kind == "categorical" else float(row[c.name])
        assert cat.validate(controls) == controls
        # The labels (with the seed from corpus.json) rebuild the file exactly.
        y = procedural.generate(row["category"], seed=seeds[row["file"]],
                                duration=AMBIENCE_S if cat.ambience else None, **controls)
        x, _ = sf.read(str(out / row["file"]), dtype="float32")
        assert np.max(np.abs(x - y)) <= 1.0 / 32768 + 1e-6
    # The first categorical control cycles, so two items per class differ in it.
    assert [r["material"] for r in rows if r["category"] == "impact"] == ["wood", "metal"]


def test_same_seed_same_files_whatever_the_category_subset(written, tmp_path):
    out, _, rows = written
    subset = ["rain", "impact"]
    labels = corpus.write_corpus(tmp_path, PER_CLASS, seed=7, categories="rain,impact",
                                 progress=False, duration_ambience=AMBIENCE_S)
    with open(labels, newline="", encoding="utf-8") as fh:
        sub_rows = list(csv.DictReader(fh))
    assert [r["category"] for r in sub_rows] == [c for c in subset for _ in range(PER_CLASS)]
    full = {r["file"]: r for r in rows}
    for row in sub_rows:
        assert row == full[row["file"]]
        assert (tmp_path / row["file"]).read_bytes() == (out / row["file"]).read_bytes()


def test_other_seed_other_files(written, tmp_path):
    out, _, _ = written
    corpus.write_corpus(tmp_path, 1, seed=8, categories=["impact"], progress=False)
    name = "impact/impact_0000.wav"
    assert (tmp_path / name).read_bytes() != (out / name).read_bytes()


def test_contact_sheet_is_a_png_of_reasonable_size(written):
    out, _, _ = written
    png = (out / "contact_sheet.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    rows = len(procedural.CATEGORIES)
    assert 300 <= width <= 2000 and rows * 100 <= height <= rows * 250
    assert 20_000 < len(png) < 5_000_000


def test_float_subtype_and_other_sample_rate(tmp_path):
    corpus.write_corpus(tmp_path, 1, seed=1, categories=["ui", "wind"], sr=44100,
                        progress=False, duration_ambience=0.5, subtype="FLOAT")
    info = sf.info(str(tmp_path / "wind" / "wind_0000.wav"))
    assert (info.samplerate, info.subtype, info.frames) == (44100, "FLOAT", 22050)
    x, _ = sf.read(str(tmp_path / "ui" / "ui_0000.wav"), dtype="float32")
    with open(tmp_path / "labels.csv", newline="", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    seed = json.loads((tmp_path / "corpus.json").read_text())["items"][0]["seed"]
    y = procedural.generate("ui", seed=seed, sr=44100, kind=row["kind"],
                            pitch=float(row["pitch"]))
    assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(per_class=0), r"per_class must be an integer >= 1"),
    (dict(seed=-3), r"seed must be an integer >= 0"),
    (dict(categories="rain,lava"), r"unknown category 'lava'"),
    (dict(categories=""), r"categories is empty"),
    (dict(duration_ambience=0.0), r"duration_ambience must be in"),
    (dict(subtype="PCM_24"), r"subtype must be one of PCM_16, FLOAT"),
    (dict(sr=1000), r"sr must be an integer in"),
])
def test_bad_arguments(tmp_path, kwargs, pattern):
    args = dict(out_dir=tmp_path / "x", per_class=1, seed=0, progress=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        corpus.write_corpus(**args)
    assert not (tmp_path / "x").exists()  # nothing written before the arguments are checked


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="foleykit")
    corpus.add_corpus_parser(parser.add_subparsers(dest="command"))
    return parser


def test_cli_writes_the_corpus(tmp_path, capsys):
    out = tmp_path / "cli"
    args = _parser().parse_args(["corpus", "--out", str(out), "--per-class", "1", "--seed", "3",
                                 "--categories", "impact,fire", "--duration-ambience", "0.5",
                                 "--no-progress"])
    assert args.run is corpus.run_corpus
    assert args.run(args) == 0
    assert "wrote 2 files" in capsys.readouterr().out
    assert sf.info(str(out / "fire" / "fire_0000.wav")).frames == 24000
    assert (out / "impact" / "impact_0000.wav").exists() and (out / "contact_sheet.png").exists()


def test_cli_defaults_and_bad_arguments(tmp_path, capsys):
    args = _parser().parse_args(["corpus", "--out", str(tmp_path)])
    assert (args.per_class, args.seed, args.categories, args.duration_ambience, args.sr,
            args.subtype) == (10, 0, None, corpus.DEFAULT_AMBIENCE_DURATION, 48000, "PCM_16")
    args = _parser().parse_args(["corpus", "--out", str(tmp_path), "--categories", "thunder"])
    assert args.run(args) == 2
    assert "unknown category 'thunder'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser().parse_args(["corpus", "--per-class", "2"])  # --out is required

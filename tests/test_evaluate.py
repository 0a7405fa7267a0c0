"""foleykit evaluate: the metrics on cases with known answers, then the command end to end on
smoke-trained exported models (a VAE and a streaming Transformer) against small folders of
procedural sounds with seeds the training never drew, and its refusals of bad input."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from foleykit.evaluate import evaluation as E
from foleykit.evaluate import metrics as M
from foleykit.evaluate.cli import register, run

# -- metrics ------------------------------------------------------------------------------


def test_clip_features_are_band_mean_then_std():
    mel = np.array([[0.0, 2.0], [1.0, 1.0], [-3.0, -5.0]], np.float32)
    f = M.clip_features(mel)
    np.testing.assert_allclose(f, [1.0, 1.0, -4.0, 1.0, 0.0, 1.0])
    assert M.clip_features(mel[:, :1])[3:].tolist() == [0.0, 0.0, 0.0]  # one frame: no spread
    with pytest.raises(ValueError):
        M.clip_features(np.zeros((80, 0)))


def test_sqrtm_psd_of_a_singular_matrix():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 3))
    s = a @ a.T  # rank 3
    r = M.sqrtm_psd(s)
    np.testing.assert_allclose(r, r.T, atol=1e-12)
    np.testing.assert_allclose(r @ r, s, atol=1e-9)


def test_frechet_closed_form_for_gaussians():
    d = 5
    mu = np.arange(d, dtype=float)
    # N(0, I) vs N(mu, 4 I): |mu|^2 + d + 4d - 2 * 2d = |mu|^2 + d
    got = M.frechet_from_stats(np.zeros(d), np.eye(d), mu, 4 * np.eye(d))
    assert got == pytest.approx(float(mu @ mu) + d, rel=1e-12)
    assert M.frechet_from_stats(mu, np.eye(d), mu, np.eye(d)) == pytest.approx(0, abs=1e-12)


def test_frechet_is_zero_for_identical_sets_and_grows_with_a_mean_shift():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 16))
    y = rng.standard_normal((400, 16))  # same distribution, other draws
    assert M.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    same = M.frechet_distance(x, y)
    assert same < 1.0
    shifted = [M.frechet_distance(x, y + s) for s in (0.5, 1.0, 2.0, 4.0)]
    assert same < shifted[0] < shifted[1] < shifted[2] < shifted[3]
    # the mean term dominates: a shift s in each of 16 dimensions adds about 16 s^2
    assert shifted[3] == pytest.approx(16 * 16, rel=0.05)
    assert M.frechet_distance(x, y) == pytest.approx(M.frechet_distance(y, x), rel=1e-6)


def test_frechet_with_fewer_clips_than_dimensions_is_finite():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((6, 160)), rng.standard_normal((9, 160)) + 1.0
    d = M.frechet_distance(a, b)
    assert np.isfinite(d) and d > 0
    assert M.frechet_distance(a[:1], a[:1]) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError):
        M.frechet_distance(a, b[:, :10])
    with pytest.raises(ValueError):
        M.frechet_distance(np.full((3, 4), np.nan), a[:, :4])


def test_classifier_recognises_separable_categories():
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((3, 160)) * 3.0
    x = np.concatenate([c + rng.standard_normal((40, 160)) for c in centres])
    y = np.repeat(np.array(["impact", "footstep", "ui"]), 40)
    tr, te = M.stratified_split(y, 0.25, seed=0)
    assert set(tr).isdisjoint(te) and len(tr) + len(te) == len(y)
    assert all(np.sum(y[te] == c) == 10 for c in ("impact", "footstep", "ui"))
    clf = M.LogisticClassifier().fit(x[tr], y[tr])
    assert clf.score(x[te], y[te]) >= 0.95
    # fresh draws around the same centres ("generated" clips) are recognised too
    gen = np.concatenate([c + rng.standard_normal((10, 160)) for c in centres])
    assert clf.score(gen, np.repeat(["impact", "footstep", "ui"], 10)) >= 0.95
    # noise far from every centre is not reliably any one category: no crash, valid labels
    assert set(clf.predict(rng.standard_normal((5, 160)) * 50)) <= {"impact", "footstep", "ui"}


def test_split_keeps_groups_together_and_every_label_in_training():
    y = np.array(["a"] * 8 + ["b"] * 1)
    groups = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4])  # windows of recordings
    tr, te = M.stratified_split(y, 0.5, seed=0, groups=groups)
    assert "b" in set(y[tr])  # a label's only recording is never held out
    assert set(groups[tr]).isdisjoint(groups[te])
    assert len(set(groups[te])) == 2


def test_diversity_is_zero_for_identical_clips():
    x = np.tile(np.arange(10.0), (5, 1))
    assert M.mean_pairwise_distance(x) == 0.0
    assert M.mean_pairwise_distance(x[:1]) is None
    # RMS distance: [0, 0] and [3, 4] are 5 / sqrt(2) apart
    assert M.mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(
        5 / np.sqrt(2))


def test_nearest_neighbour_flags_an_exact_copy():
    rng = np.random.default_rng(4)
    real = rng.standard_normal((20, 160))
    fresh = rng.standard_normal((5, 160))
    gen = np.concatenate([real[7:8], real[3:4] + 1e-4, fresh])
    nn = M.nearest_neighbours(gen, real)
    assert nn.index[0] == 7 and nn.distance[0] == pytest.approx(0.0, abs=1e-6)
    assert nn.index[1] == 3 and nn.flagged[:2].all()
    assert not nn.flagged[2:].any()  # as far from the data as real clips are from each other
    assert 0 < nn.threshold == pytest.approx(M.self_nearest_distances(real).min())
    # copies inside the reference do not shrink the threshold to zero
    nn2 = M.nearest_neighbours(gen, np.concatenate([real, real[:1]]))
    assert nn2.threshold > 0 and nn2.flagged[0]


# -- end to end ---------------------------------------------------------------------------


def _write_folder(root: Path, categories, n: int, duration: float, seed: int) -> Path:
    from foleykit.data import procedural as P

    rng = np.random.default_rng(seed)
    for c in categories:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            x = P.generate(c, seed=seed * 1000 + i, duration=duration, sr=48000,
                           **P.sample_controls(c, rng))
            sf.write(str(root / c / f"{i:02d}.wav"), x, 48000)
    return root


def _train_and_export(root: Path, family: str) -> Path:
    from foleykit.export import export_run
    from foleykit.train.__main__ import main as train_main

    run_dir = root / family
    assert train_main(["--out", str(run_dir), "--model", family, "--smoke-test",
                       "--no-progress"]) == 0
    return export_run(run_dir, root / f"{family}.onnx")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_models")
    return {"vae": _train_and_export(root, "vae"),
            "transformer": _train_and_export(root, "transformer")}


@pytest.fixture(scope="module")
def one_shots(tmp_path_factory):
    # smoke VAEs train on impact and footstep; ui is a category the model does not know
    root = tmp_path_factory.mktemp("one_shots")
    _write_folder(root, ["impact", "footstep"], 5, 0.5, seed=77)
    return _write_folder(root, ["ui"], 2, 0.3, seed=78)


def _cli(argv):
    parser = argparse.ArgumentParser(prog="foleykit")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["evaluate", *map(str, argv)])
    assert args.run is run
    return args.run(args)


def _check_category(c, per_category, seeds):
    assert c["generated_clips"] == per_category * seeds
    assert len(c["settings"]) == per_category
    assert all(len(s["seeds"]) == seeds for s in c["settings"])
    for key in ("distance", "real_split"):
        assert key in c["frechet"]
    assert c["frechet"]["distance"] >= 0
    assert 0.0 <= c["classifier"]["accuracy"] <= 1.0
    assert sum(c["classifier"]["predicted"].values()) == c["generated_clips"]
    assert c["diversity"]["generated"] >= 0 and c["diversity"]["real"] > 0
    assert c["diversity"]["ratio"] == pytest.approx(
        c["diversity"]["generated"] / c["diversity"]["real"])
    nn = c["nearest"]
    assert 0 <= nn["min"] <= nn["median"]
    assert nn["threshold"] > 0 and nn["flagged"] == len(nn["flagged_clips"])


def test_evaluate_vae_end_to_end(models, one_shots, tmp_path, capsys):
    out = tmp_path / "report"
    rc = _cli([models["vae"], "--data", one_shots, "--out", out, "--per-category", 3,
               "--seeds", 2, "--no-cache"])
    printed = capsys.readouterr().out
    assert rc == 0
    assert "impact" in printed and "footstep" in printed and "Frechet" in printed
    assert "ui" in printed.split("skipped")[1].splitlines()[0]  # reported as unknown

    report = json.loads((out / "evaluation.json").read_text())
    png = out / "evaluation.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert report["foleykit_evaluation"] == 1
    assert report["model"]["family"] == "vae" and report["model"]["mode"] == "one_shot"
    assert report["model"]["category_control"] == "category"
    assert report["categories_evaluated"] == ["footstep", "impact"]
    assert report["skipped_categories"] == {"not_in_model": ["ui"], "not_in_data": []}
    assert report["data"]["clips"] == 12
    assert report["reference"]["kind"] == "data" and report["reference"]["threshold"] > 0
    assert report["outputs"] == {"json": str(out / "evaluation.json"), "png": str(png)}
    for c in report["categories"].values():
        _check_category(c, 3, 2)
        assert c["real_clips"] == 5
        # corpus-trained: the model's own controls are drawn as the corpus draws them
        assert c["settings"][0]["drawn"]
    clf = report["overall"]["classifier"]
    assert clf["classes"] == ["footstep", "impact"]
    assert clf["real_train"] + clf["real_heldout"] == 10
    assert 0 <= clf["generated_accuracy"] <= 1
    assert sum(sum(r.values()) for r in clf["confusion"].values()) == 12
    assert report["overall"]["generated_clips"] == 12

    # deterministic: the same command gives the same numbers
    again = E.evaluate(models["vae"], one_shots, None, per_category=3, seeds=2,
                       cache_dir=False, plot=False)
    assert again["categories"] == report["categories"]


def test_a_model_that_replays_its_data_is_flagged(models, one_shots, monkeypatch):
    from foleykit.data import SoundFolder

    folder = SoundFolder(one_shots, cache_dir=False)
    impacts = [it.mel[:, :128] for it in folder if it.category == "impact"]
    calls = []

    def replay(rt, controls, seed, frames, warmup, resynth):
        calls.append(seed)
        if controls["category"] == "impact":
            return impacts[len(calls) % len(impacts)]
        return rt.render_mel(controls, seed)

    monkeypatch.setattr(E, "_generate", replay)
    report = E.evaluate(models["vae"], one_shots, None, per_category=2, seeds=2,
                        cache_dir=False, plot=False)
    imp, foot = report["categories"]["impact"], report["categories"]["footstep"]
    assert imp["nearest"]["flagged"] == 4 and imp["nearest"]["min"] < 1e-6
    assert imp["diversity"]["generated"] > 0  # different clips, so not caught by diversity
    assert imp["nearest"]["flagged_clips"][0]["nearest"].startswith("impact/")
    assert foot["nearest"]["flagged"] == 0
    assert report["overall"]["flagged"] == 4


def test_evaluate_ambience_model_streams(models, tmp_path, capsys):
    data = _write_folder(tmp_path / "amb", ["rain", "wind"], 3, 1.2, seed=91)
    out = tmp_path / "amb_report"
    rc = _cli([models["transformer"], "--data", data, "--out", out, "--per-category", 2,
               "--seeds", 2, "--frames", 48, "--warmup", 8, "--no-cache"])
    capsys.readouterr()
    assert rc == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert report["model"]["mode"] == "step"
    assert report["settings"]["frames"] == 48
    assert (out / "evaluation.png").is_file()
    for c in report["categories"].values():
        _check_category(c, 2, 2)
        assert c["real_clips"] == 3
        assert c["real_examples"] == 3 * (225 // 48)  # 1.2 s recordings cut into 48-frame windows
    # the procedural intensity (0..1) is not the folder's loudness (dB LUFS): drawn, not copied
    rain = report["categories"]["rain"]["settings"][0]
    assert "intensity" not in rain["from_clip"] and 0 <= rain["controls"]["intensity"] <= 1


def _folder_with(root: Path, files) -> Path:
    root.mkdir(parents=True)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_bad_input_is_refused_with_a_clear_error(models, one_shots, tmp_path, capsys):
    good = models["vae"]
    cases = []
    cases.append(([tmp_path / "missing.onnx", "--data", one_shots], "does not exist"))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases.append(([broken, "--data", one_shots], "broken.onnx"))
    cases.append(([good, "--data", tmp_path / "nowhere"], "does not exist"))
    empty = _folder_with(tmp_path / "empty", {"notes.txt": b"hello",
                                              "impact/bad.wav": b"RIFF not really"})
    cases.append(([good, "--data", empty], "no usable sound files"))
    other = _write_folder(tmp_path / "other", ["ui"], 2, 0.3, seed=5)
    cases.append(([good, "--data", other], "no category in common"))
    cases.append(([good, "--data", one_shots, "--seeds", 0], "seeds must be >= 1"))
    for argv, words in cases:
        rc = _cli([*argv, "--out", tmp_path / "out", "--no-cache"])
        err = capsys.readouterr().err
        assert rc != 0, argv
        assert err.startswith("foleykit evaluate: ") and words in err, (argv, err)
        assert "Traceback" not in err
    assert not (tmp_path / "out" / "evaluation.json").exists()

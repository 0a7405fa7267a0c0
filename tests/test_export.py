"""foleykit export: ONNX Runtime agrees with torch for every family, metadata round-trips,
compressed weights stay close, and damaged files are refused with a clear error."""
from __future__ import annotations

import argparse

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from foleykit.export import ModelFileError, load_metadata
from foleykit.export.cli import add_export_parser
from foleykit.models import ControlSchema, seed_noise
from foleykit.train.__main__ import main as train_main
from foleykit.train.checkpoint import load_model

FAMILIES = ("vae", "gan", "transformer")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for fam in FAMILIES:
        assert train_main(["--out", str(root / fam), "--model", fam, "--smoke-test",
                           "--no-progress"]) == 0
        out[fam] = root / fam
    return out


def _export(run, path, *flags) -> None:
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers())
    args = parser.parse_args(["export", str(run), "--out", str(path), *flags])
    assert args.run(args) == 0


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("family", FAMILIES)
def test_onnx_runtime_matches_torch(runs, tmp_path, family):
    path = tmp_path / f"{family}.onnx"
    _export(runs[family], path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) <= 15
    model, schema, cfg, _ = load_model(runs[family])
    sess = _session(path)
    rng = np.random.default_rng(0)
    c = schema.encode_batch([{}])
    c_alt = np.clip(c + rng.uniform(0, 1, c.shape).astype(np.float32), 0, 1)
    with torch.no_grad():
        if family == "transformer":
            frame, state = model.silence(), model.initial_state()
            f_o, s_o = frame.numpy(), state.numpy()
            for k in range(20):
                cc = c if k < 10 else c_alt  # controls change mid-stream
                noise = seed_noise(5, model.n_mels, stream=k)[None]
                frame, state = model.step(frame, torch.from_numpy(cc), torch.from_numpy(noise),
                                          state)
                f_o, s_o = sess.run(None, {"frame": f_o, "controls": cc, "noise": noise,
                                           "state": s_o})
                np.testing.assert_allclose(f_o, frame.numpy(), atol=1e-4, rtol=0)
                np.testing.assert_allclose(s_o, state.numpy(), atol=1e-4, rtol=0)
            assert s_o.shape == (1, model.window, model.n_mels)
        else:
            for seed, cc in ((0, c), (1, c_alt)):
                z = seed_noise(seed, model.z_dim)[None]
                mel, alive = model.decode(torch.from_numpy(z), torch.from_numpy(cc))
                mel_o, alive_o = sess.run(None, {"z": z, "controls": cc})
                assert mel_o.shape == (1, cfg["n_mels"], cfg["frames"])
                assert alive_o.shape == (1, cfg["frames"])
                np.testing.assert_allclose(mel_o, mel.numpy(), atol=1e-4, rtol=0)
                np.testing.assert_allclose(alive_o, alive.numpy(), atol=1e-4, rtol=0)


def test_metadata_round_trips(runs, tmp_path):
    for family in FAMILIES:
        path = tmp_path / f"{family}.onnx"
        _export(runs[family], path)
        meta = load_metadata(path)
        model, schema, cfg, _ = load_model(runs[family])
        assert meta["model_family"] == family
        for k in ("sample_rate", "n_fft", "hop", "n_mels", "fmin", "fmax", "log_floor"):
            assert meta[k] == cfg[k], k
        assert meta["window"] == "hann_periodic"
        assert ControlSchema.from_dict(meta["control_schema"]) == schema
        assert len(meta["content_hash"]) == 64
        if family == "transformer":
            assert meta["max_frames"] is None and meta["window_frames"] == model.window
        else:
            assert meta["max_frames"] == cfg["frames"] and meta["z_dim"] == model.z_dim


@pytest.mark.parametrize("flag, tol", [("--fp16", 0.05), ("--int8", 0.5)])
def test_compressed_weights_are_smaller_and_close(runs, tmp_path, flag, tol):
    full, small = tmp_path / "full.onnx", tmp_path / "small.onnx"
    _export(runs["vae"], full)
    _export(runs["vae"], small, flag)
    assert small.stat().st_size < 0.6 * full.stat().st_size
    assert load_metadata(small)["precision"] == flag[2:]
    z = seed_noise(3, load_metadata(full)["z_dim"])[None]
    c = ControlSchema.from_dict(load_metadata(full)["control_schema"]).encode()[None]
    a = _session(full).run(None, {"z": z, "controls": c})[0]
    b = _session(small).run(None, {"z": z, "controls": c})[0]
    assert np.abs(a - b).mean() < tol


def test_damaged_files_raise_a_clear_error(runs, tmp_path):
    path = tmp_path / "m.onnx"
    _export(runs["gan"], path)
    data = path.read_bytes()
    cases = {"truncated": data[: len(data) // 2], "tail_cut": data[:-7],
             "flipped": data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:],
             "garbage": b"not an onnx model at all", "empty": b""}
    for name, blob in cases.items():
        bad = tmp_path / f"{name}.onnx"
        bad.write_bytes(blob)
        with pytest.raises(ModelFileError, match="corrupt|truncated|not a"):
            load_metadata(bad)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_metadata(tmp_path / "missing.onnx")
    plain = tmp_path / "plain.onnx"
    onnx.save(onnx.helper.make_model(onnx.helper.make_graph([], "g", [], [])), str(plain))
    with pytest.raises(ModelFileError, match="missing"):
        load_metadata(plain)


def test_export_cli_reports_a_missing_run(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers())
    args = parser.parse_args(["export", str(tmp_path / "nope"), "--out", str(tmp_path / "x.onnx")])
    assert args.run(args) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_runtime_renders_one_shots_and_streams_ambiences(runs, tmp_path):
    from foleykit.runtime import Runtime

    shot, amb = tmp_path / "vae.onnx", tmp_path / "tr.onnx"
    _export(runs["vae"], shot)
    _export(runs["transformer"], amb)
    rt = Runtime(shot)
    a, b = rt.render({}, seed=4), rt.render({}, seed=4)
    assert a.dtype == np.float32 and a.ndim == 1 and 0 < len(a) <= 128 * 256
    assert np.array_equal(a, b) and np.isfinite(a).all()
    with pytest.raises(ValueError, match="velocity"):
        rt.render({"velocity": -5.0})
    with pytest.raises(ValueError, match="one-shot"):
        rt.stream()
    s = Runtime(amb).stream(seed=1, block_frames=8)
    names = Runtime(amb).schema.names
    blocks = [next(s) for _ in range(3)]
    cont = next(n for n in names if n != "category")
    s.set_controls({cont: Runtime(amb).schema[cont].high})
    blocks += [next(s) for _ in range(3)]
    y = np.concatenate(blocks)
    assert len(y) >= 5 * 8 * 256 and np.isfinite(y).all()


def test_compaction_reports_its_measured_quality_cost(runs, tmp_path, capsys):
    """--fp16/--int8 print the log-mel error against the float32 graph; the numbers are
    measured (int8 costs more than fp16, both are small but not zero)."""
    import re

    from foleykit.export.quality import compaction_cost

    costs = {}
    for flag in ("--fp16", "--int8"):
        _export(runs["transformer"], tmp_path / f"t{flag}.onnx", flag)
        line = [l for l in capsys.readouterr().out.splitlines() if "quality cost" in l]
        assert len(line) == 1, "the export prints its quality cost"
        costs[flag] = float(re.search(r"mean ([0-9.]+)", line[0]).group(1))
    assert 0 < costs["--fp16"] < costs["--int8"] < 0.5
    _export(runs["vae"], tmp_path / "v.onnx")
    c = compaction_cost(onnx.load(str(tmp_path / "v.onnx")), "int8", draws=2)
    assert c["max_abs"] >= c["p99_abs"] >= 0 and c["rollout_steps"] is None

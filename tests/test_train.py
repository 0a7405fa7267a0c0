"""foleykit train: smoke runs of every family through the real pipeline, the run folder,
weights-only checkpoints, determinism for a seed, --resume, config files and DDP on CPU."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from foleykit.train.__main__ import main as train_main


def _run(out: Path, *args: str) -> None:
    assert train_main(["--out", str(out), "--no-progress", *args]) == 0


@pytest.mark.parametrize("family", ["vae", "gan", "transformer"])
def test_smoke_run_writes_a_complete_run_folder(tmp_path, family):
    out = tmp_path / family
    _run(out, "--model", family, "--data", "corpus", "--smoke-test", "--seed", "1")
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"] == family and cfg["seed"] == 1 and cfg["steps"] == 3
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 3 and ck["family"] == family
    json.dumps({k: ck[k] for k in ("config", "schema", "history", "stats")})  # plain data
    assert (out / "loss.png").stat().st_size > 0
    assert (out / "previews" / "step_0000003.png").is_file()
    assert (out / "previews" / "step_0000003.wav").is_file()
    assert not list(out.glob("*.tmp"))  # atomic writes leave nothing behind


def test_relative_transformer_trains_on_sequences_longer_than_its_window(tmp_path):
    from foleykit.models import build_model
    from foleykit.train.config import resolve_config
    from foleykit.train.data import load_dataset
    from foleykit.train.loop import _batch, _step_generator

    cfg_file = tmp_path / "rel.json"
    cfg_file.write_text(json.dumps({"model": "transformer", "model_config": {
        "window": 8, "d_model": 32, "layers": 2, "ff": 64, "positional": "relative"}}))
    out = tmp_path / "rel"
    _run(out, "--config", str(cfg_file), "--smoke-test")
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert "model.pos" not in ck["model"] and "pos" not in ck["model"]
    assert ck["model"]["blocks.1.rel_bias"].shape == (4, 8)
    cfg = resolve_config(json.loads(cfg_file.read_text()), {"clips_per_category": 2,
                                                             "ambience_seconds": 0.6})
    ds = load_dataset(cfg)
    m = build_model("transformer", ds.schema, config=cfg.model_config)
    lo = float(np.log(cfg.log_floor))
    for step in range(1, 9):
        seq, c, real = _batch(ds, cfg, m, 4, _step_generator(0, 0, step, torch.device("cpu")),
                              torch.device("cpu"))
        assert seq.shape == (4, 2 * 8 + 1, cfg.n_mels) and c.shape[0] == 4
        assert real.shape == (4, 2 * 8 + 1) and real.dtype == torch.bool
        for b in range(4):  # floor frames first (a stream from silence), then the clip
            k = int((~real[b]).sum())
            assert k <= 8 - 1 and bool(real[b, k:].all())
            assert bool((seq[b, :k] == lo).all())
    # silence_starts 1: every sequence begins with 1 .. n - 2 floor frames, then the clip
    m = build_model("transformer", ds.schema, config={**cfg.model_config, "silence_starts": 1.0})
    seen = set()
    for step in range(1, 9):
        seq, c, real = _batch(ds, cfg, m, 4, _step_generator(0, 0, step, torch.device("cpu")),
                              torch.device("cpu"))
        for b in range(4):
            k = int((~real[b]).sum())
            assert 1 <= k <= 2 * 8 - 1 and bool(real[b, k:].all())
            assert bool((seq[b, :k] == lo).all()) and not bool((seq[b, k] == lo).all())
            seen.add(k)
    assert len(seen) > 4


def _weights(out: Path):
    return torch.load(out / "checkpoint.pt", weights_only=True)["model"]


def test_same_seed_same_weights_and_resume_continues(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _run(a, "--model", "vae", "--smoke-test", "--steps", "4")
    _run(b, "--model", "vae", "--smoke-test", "--steps", "4")
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    _run(c, "--model", "vae", "--smoke-test", "--steps", "2")
    _run(c, "--resume", "--steps", "4")
    wc = _weights(c)
    assert all(torch.equal(wa[k], wc[k]) for k in wa)
    assert [h["step"] for h in torch.load(c / "checkpoint.pt", weights_only=True)["history"]] \
        == [1, 2, 3, 4]


def test_config_file_toml_and_errors(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('model = "transformer"\ncategories = ["wind"]\n'
                   '[model_config]\nwindow = 8\nd_model = 32\nlayers = 1\nff = 64\n')
    out = tmp_path / "t"
    _run(out, "--config", str(cfg), "--smoke-test")
    saved = json.loads((out / "config.json").read_text())
    assert saved["model_config"]["window"] == 8 and saved["categories"] == ["wind"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "vae", "learning_rate": 1}))
    assert train_main(["--out", str(tmp_path / "x"), "--config", str(bad)]) == 2
    assert "learning_rate" in capsys.readouterr().err
    assert train_main(["--out", str(tmp_path / "y"), "--smoke-test", "--categories",
                       "rain"]) == 2  # rain is an ambience, the VAE makes one-shots
    assert train_main(["--out", str(tmp_path / "z"), "--resume"]) == 2


def test_ddp_two_processes_on_cpu(tmp_path):
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
         "--nproc_per_node", "2", "-m", "foleykit.train", "--model", "vae", "--out", str(out),
         "--smoke-test", "--no-progress"],
        env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    assert [p.name for p in tmp_path.iterdir()] == ["ddp"]
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 3

"""A sound designer's whole path, from a folder of their own sounds to the native runtime:
WAV files in category folders -> foleykit train --data DIR -> foleykit export (.onnx + .fkm)
-> the native runtime and the engine play it, equal to ONNX Runtime."""
from __future__ import annotations

import argparse

import numpy as np
import soundfile as sf

from foleykit import Engine, Runtime
from foleykit.data import procedural
from foleykit.export.cli import add_export_parser
from foleykit.train.__main__ import main as train_main


def test_sound_folder_trains_exports_and_plays_natively(tmp_path):
    root = tmp_path / "my_sounds"
    for cat, kw in (("knock", {"material": "wood"}), ("clang", {"material": "metal"})):
        (root / cat).mkdir(parents=True)
        for i in range(4):
            x = procedural.generate("impact", seed=i, velocity=1.0 + i, **kw)
            sf.write(str(root / cat / f"{cat}_{i}.wav"), x, 48000)
    run = tmp_path / "run"
    assert train_main(["--out", str(run), "--data", str(root), "--model", "vae",
                       "--smoke-test", "--no-progress"]) == 0
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers())
    onnx_path = tmp_path / "mine.onnx"
    args = parser.parse_args(["export", str(run), "--out", str(onnx_path)])
    assert args.run(args) == 0
    assert onnx_path.with_suffix(".fkm").is_file()

    native = Runtime(onnx_path)
    reference = Runtime(onnx_path, backend="onnxruntime")
    assert native.backend == "native"
    assert native.schema.names[0] == "category"
    assert set(native.schema["category"].choices) == {"knock", "clang"}
    for cat in ("knock", "clang"):
        a = native.render_mel({"category": cat}, seed=3)
        b = reference.render_mel({"category": cat}, seed=3)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)

    with Engine(channels=1) as eng:
        m = eng.add_model(onnx_path)
        eng.trigger(m, {"category": "clang"}, seed=3)
        assert eng.sync(10.0)
        y = np.concatenate([eng.render(256)[:, 0] for _ in range(40)])
    assert np.isfinite(y).all() and np.abs(y).max() > 0

"""The native model runtime (foleykit._core.NativeModel over .fkm files) against ONNX Runtime on
the same models, inputs and seeds: the default models, and VAE / GAN / Transformer models
trained here, in every export precision. Also the Runtime backends, control encoding, seeded
noise, and refusal of bad files and values."""
from __future__ import annotations

import argparse

import numpy as np
import onnxruntime as ort
import pytest

from foleykit import Runtime
from foleykit._core import DSPError, NativeModel, seed_noise as native_seed_noise
from foleykit.export.cli import add_export_parser
from foleykit.models import ControlSchema, default, seed_noise
from foleykit.train.__main__ import main as train_main

ATOL = 1e-4
FAMILIES = ("vae", "gan", "transformer")


def _session(path):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Smoke-trained models of each family, exported fp32, fp16 and int8 (.onnx + .fkm)."""
    root = tmp_path_factory.mktemp("native_runs")
    out = {}
    for fam in FAMILIES:
        assert train_main(["--out", str(root / fam), "--model", fam, "--smoke-test",
                           "--no-progress"]) == 0
        for precision in ("fp32", "fp16", "int8"):
            path = root / f"{fam}-{precision}.onnx"
            parser = argparse.ArgumentParser()
            add_export_parser(parser.add_subparsers())
            args = parser.parse_args(["export", str(root / fam), "--out", str(path),
                                      "--precision", precision])
            assert args.run(args) == 0
            assert path.with_suffix(".fkm").is_file(), "foleykit export writes the .fkm too"
            out[(fam, precision)] = path
    return out


def _random_controls(schema: ControlSchema, rng) -> dict:
    out = {}
    for c in schema.controls:
        if c.kind == "categorical":
            out[c.name] = c.choices[int(rng.integers(len(c.choices)))]
        else:
            lo, hi = (np.log(c.low), np.log(c.high)) if c.log else (c.low, c.high)
            v = float(rng.uniform(lo, hi))
            out[c.name] = float(np.clip(np.float32(np.exp(v) if c.log else v), c.low, c.high))
    return out


def check_parity(onnx_path, steps: int = 24, draws: int = 4) -> float:
    """Native vs ONNX Runtime on the raw graph; returns the largest difference seen."""
    native = NativeModel(str(onnx_path.with_suffix(".fkm")))
    sess = _session(onnx_path)
    rt = Runtime(onnx_path, backend="onnxruntime")
    schema = rt.schema
    rng = np.random.default_rng(7)
    worst = 0.0
    if native.info["mode"] == "one_shot":
        for k in range(draws):
            ctl = _random_controls(schema, rng) if k else {}
            c = schema.encode(ctl)
            # values travel as float32, Python encodes the float64 it was given
            np.testing.assert_allclose(native.encode_controls(schema.values(ctl)), c,
                                       rtol=0, atol=1e-6)
            z = seed_noise(k, native.info["z_dim"])
            mel_o, alive_o = sess.run(None, {"z": z[None], "controls": c[None]})
            mel_n, alive_n = native.run_one_shot(z, c)
            assert mel_n.shape == mel_o.shape[1:]
            worst = max(worst, float(np.abs(mel_n - mel_o[0]).max()),
                        float(np.abs(alive_n - alive_o[0]).max()))
    else:
        n_mels, window = native.info["n_mels"], native.info["window_frames"]
        lo = np.float32(np.log(native.info["log_floor"]))
        f_o = np.full((1, n_mels), lo, np.float32)
        s_o = np.full((1, window, n_mels), lo, np.float32)
        c1 = schema.encode({})
        c2 = schema.encode(_random_controls(schema, rng))
        for k in range(steps):
            c = c1 if k < steps // 2 else c2  # controls change mid-stream
            noise = seed_noise(11, n_mels, stream=k)
            # both run on the same inputs (ORT's previous outputs): differences cannot compound
            f_n, s_n = native.run_step(f_o[0], c, noise, s_o[0])
            f_o, s_o = sess.run(None, {"frame": f_o, "controls": c[None], "noise": noise[None],
                                       "state": s_o})
            worst = max(worst, float(np.abs(f_n - f_o[0]).max()),
                        float(np.abs(s_n - s_o[0]).max()))
    return worst


@pytest.mark.parametrize("kind", default.KINDS)
def test_default_models_match_onnxruntime(kind):
    worst = check_parity(default.path(kind))
    print(f"{kind}: max |native - onnxruntime| = {worst:.2e}")
    assert worst < ATOL


@pytest.mark.parametrize("precision", ("fp32", "fp16", "int8"))
@pytest.mark.parametrize("family", FAMILIES)
def test_trained_models_match_onnxruntime(trained, family, precision):
    worst = check_parity(trained[(family, precision)])
    print(f"{family}/{precision}: max |native - onnxruntime| = {worst:.2e}")
    assert worst < ATOL


def test_seed_noise_is_bit_identical():
    for seed, n, stream in ((0, 16, 0), (3, 80, 0), (2**64 - 1, 33, 5), (123456789, 80, 999)):
        np.testing.assert_array_equal(native_seed_noise(seed, n, stream),
                                      seed_noise(seed, n, stream))


@pytest.mark.parametrize("kind", default.KINDS)
def test_backends_render_the_same_sounds(kind):
    nat = Runtime(default.path(kind), backend="native")
    ref = Runtime(default.path(kind), backend="onnxruntime")
    assert nat.backend == "native" and ref.backend == "onnxruntime"
    assert Runtime(default.path(kind)).backend == "native", "native is the default"
    rng = np.random.default_rng(1)
    if kind == "oneshots":
        for seed in range(4):
            ctl = _random_controls(nat.schema, rng)
            a, b = nat.render_mel(ctl, seed), ref.render_mel(ctl, seed)
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, atol=ATOL, rtol=0)
        x, y = nat.render({"category": "impact"}, 2), ref.render({"category": "impact"}, 2)
        assert x.shape == y.shape and np.corrcoef(x, y)[0, 1] > 0.999
    else:
        sa, sb = nat.stream({"category": "rain"}, seed=4), ref.stream({"category": "rain"}, seed=4)
        for k in range(3):
            if k == 2:
                sa.set_controls({"category": "wind", "strength": 0.9})
                sb.set_controls({"category": "wind", "strength": 0.9})
            np.testing.assert_allclose(sa.frames(8), sb.frames(8), atol=1e-3, rtol=0)


def test_native_generate_is_deterministic_and_seeded():
    m = NativeModel(str(default.path("oneshots").with_suffix(".fkm")))
    a, b, c = m.generate(None, 5), m.generate(None, 5), m.generate(None, 6)
    np.testing.assert_array_equal(a, b)
    assert a.shape[0] == m.info["n_mels"] and 1 <= a.shape[1] <= m.info["max_frames"]
    assert not np.array_equal(a[:, :min(a.shape[1], c.shape[1])], c[:, :min(a.shape[1], c.shape[1])])


def test_stream_is_independent_of_how_frames_are_requested():
    path = str(default.path("ambiences").with_suffix(".fkm"))
    one, many = NativeModel(path), NativeModel(path)
    one.stream_reset(None, 9)
    many.stream_reset(None, 9)
    a = np.concatenate([one.stream_next(1) for _ in range(12)], axis=1)
    b = np.concatenate([many.stream_next(5), many.stream_next(7)], axis=1)
    np.testing.assert_array_equal(a, b)


def test_bad_values_and_files_are_refused(tmp_path):
    onnx_path = default.path("oneshots")
    m = NativeModel(str(onnx_path.with_suffix(".fkm")))
    schema = Runtime(onnx_path, backend="native").schema
    vals = schema.values({})
    i = schema.names.index("velocity")
    bad = vals.copy()
    bad[i] = 1e6
    with pytest.raises(DSPError, match="velocity"):
        m.generate(bad, 0)
    bad = vals.copy()
    bad[schema.names.index("material")] = 17
    with pytest.raises(DSPError, match="material"):
        m.generate(bad, 0)
    bad[0] = np.nan
    with pytest.raises(DSPError):
        m.generate(bad, 0)
    with pytest.raises(DSPError, match="control values"):
        m.generate(vals[:3], 0)
    with pytest.raises(DSPError, match=r"\.fkm"):
        NativeModel(str(onnx_path))
    with pytest.raises(DSPError, match="(?i)does not exist|no such|cannot open"):
        NativeModel(str(tmp_path / "missing.fkm"))
    data = onnx_path.with_suffix(".fkm").read_bytes()
    for cut in (0, 10, 40, len(data) // 2, len(data) - 1):
        with pytest.raises(DSPError):
            NativeModel.from_bytes(data[:cut])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    with pytest.raises(DSPError, match="(?i)checksum"):
        NativeModel.from_bytes(bytes(flipped))
    amb = NativeModel(str(default.path("ambiences").with_suffix(".fkm")))
    with pytest.raises(DSPError, match="(?i)reset"):
        amb.stream_next(1)
    # a one-shot model cannot stream and a step model cannot generate clips
    with pytest.raises(DSPError):
        amb.generate(None, 0)


def test_untrained_model_with_aliased_weights_converts_and_matches(tmp_path):
    """torch's exporter stores equal initializers once and aliases the others through Identity
    nodes (an untrained model's LayerNorms; level bounds equal to the feature bounds): the
    converter resolves them and the native runtime still equals ONNX Runtime."""
    import onnx

    from foleykit.export import export_model
    from foleykit.models import ControlDef
    from foleykit.models.transformer import CausalTransformer, TransformerConfig

    schema = ControlSchema([ControlDef("kind", "categorical", "a", choices=("a", "b"))])
    model = CausalTransformer(schema.dim, n_mels=8, config=TransformerConfig(
        window=4, d_model=16, heads=2, layers=2, ff=16))
    feats = {"sample_rate": 48000, "n_fft": 1024, "hop": 256, "n_mels": 8, "fmin": 0.0,
             "fmax": None, "log_floor": 1e-5}
    path = export_model(model, schema, feats, tmp_path / "tiny.onnx")
    assert any(n.op_type == "Identity" for n in onnx.load(str(path)).graph.node)
    assert check_parity(path, steps=8) < ATOL


def test_one_model_shared_by_python_threads():
    """Several Python threads on one NativeModel: calls serialise on its session without
    deadlocking against the GIL, and every thread gets the single-threaded result. Run in a
    child process, so a deadlock fails the test instead of hanging the suite."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import threading, numpy as np
        from foleykit._core import NativeModel
        m = NativeModel({str(default.path("oneshots").with_suffix(".fkm"))!r})
        want = {{s: m.generate(None, s) for s in range(4)}}
        bad = []
        def work(s):
            for _ in range(25):
                if not np.array_equal(m.generate(None, s), want[s]):
                    bad.append(s)
        threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("mismatches", len(bad))
    """)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("four threads on one NativeModel deadlocked")
    assert out.returncode == 0, out.stderr
    assert "mismatches 0" in out.stdout


@pytest.mark.parametrize("kernel", (3, 5, 7))
def test_decoder_kernel_sizes_match_onnxruntime(tmp_path, kernel):
    """Kernel 5 runs its doubling stages by Winograd, other sizes by the merged-tap product:
    both equal ONNX Runtime."""
    import torch

    from foleykit.export import export_model
    from foleykit.models import ControlDef
    from foleykit.models.vae import ConditionalVAE, VAEConfig

    torch.manual_seed(kernel)
    schema = ControlSchema([ControlDef("kind", "categorical", "a", choices=("a", "b")),
                            ControlDef("level", "continuous", 0.5, low=0.0, high=1.0)])
    model = ConditionalVAE(schema.dim, n_mels=16, frames=32, config=VAEConfig(
        z_dim=4, channels=24, enc_channels=8, base_frames=4, kernel=kernel))
    feats = {"sample_rate": 48000, "n_fft": 1024, "hop": 256, "n_mels": 16, "fmin": 0.0,
             "fmax": None, "log_floor": 1e-5}
    path = export_model(model, schema, feats, tmp_path / f"k{kernel}.onnx")
    assert check_parity(path) < ATOL


# -- the relative positional form (key/value cache in the native runtime) ----------------------

REL_ATOL = 2e-5  # native rings vs ONNX Runtime's full recompute: float32 rounding only


@pytest.fixture(scope="module")
def relative(tmp_path_factory):
    """A relative-form Transformer with random distance biases (they start at zero), exported
    in every precision: {precision: model.onnx} (with the .fkm beside each)."""
    import torch

    from foleykit.export import export_model
    from foleykit.models import ControlDef
    from foleykit.models.transformer import CausalTransformer, TransformerConfig

    torch.manual_seed(3)
    schema = ControlSchema([ControlDef("kind", "categorical", "a", choices=("a", "b", "c")),
                            ControlDef("level", "continuous", 0.5, low=0.0, high=1.0)])
    model = CausalTransformer(schema.dim, n_mels=80, config=TransformerConfig(
        window=8, d_model=32, heads=4, layers=2, ff=64, positional="relative"))
    # lo: the log floor, which both backends' streams start from
    model.stats.set({"lo": float(np.log(np.float32(1e-5))), "hi": 2.0, "center": -6.0, "spread": 2.5, "level_lo": -10.0,
                     "level_hi": -1.0})
    with torch.no_grad():
        for b in model.blocks:
            b.rel_bias.normal_(0.0, 1.0)
    feats = {"sample_rate": 48000, "n_fft": 1024, "hop": 256, "n_mels": 80, "fmin": 0.0,
             "fmax": None, "log_floor": 1e-5}
    root = tmp_path_factory.mktemp("relative")
    return {p: export_model(model, schema, feats, root / f"rel-{p}.onnx", p)
            for p in ("fp32", "fp16", "int8")}


@pytest.mark.parametrize("precision", ("fp32", "fp16", "int8"))
def test_relative_model_matches_onnxruntime(relative, precision):
    path = relative[precision]
    info = NativeModel(str(path.with_suffix(".fkm"))).info
    assert info["window_frames"] == 2 * (8 - 1) + 1  # the state: the newest row's field
    worst = check_parity(path, steps=30)
    print(f"relative/{precision}: max |native - onnxruntime| = {worst:.2e}")
    assert worst < REL_ATOL


@pytest.mark.parametrize("precision", ("fp32", "fp16", "int8"))
def test_relative_stream_follows_onnxruntime_over_a_long_rollout(relative, precision):
    """200 frames free-running (each backend feeds back its own output, so differences could
    compound), controls changed twice mid-stream: the native stream (one row per step through
    the cached keys and values; rebuilt when the controls change) stays on ONNX Runtime's."""
    path = relative[precision]
    nat = Runtime(path, backend="native").stream({"kind": "b"}, seed=5)
    ref = Runtime(path, backend="onnxruntime").stream({"kind": "b"}, seed=5)
    mels, worst = [], 0.0
    for k in range(25):
        if k in (9, 17):
            ctl = {"kind": "c", "level": 0.9} if k == 9 else {"kind": "a", "level": 0.1}
            nat.set_controls(ctl)
            ref.set_controls(ctl)
        a, b = nat.frames(8), ref.frames(8)
        worst = max(worst, float(np.abs(a - b).max()))
        mels.append(b)
    print(f"relative/{precision}: 200-frame rollout, max |native - onnxruntime| = {worst:.2e}")
    assert worst < REL_ATOL
    assert np.ptp(np.concatenate(mels, axis=1)) > 1.0  # a stream, not a clamped constant


@pytest.mark.parametrize("which", ["absolute", "relative"])
def test_stream_is_independent_of_calls_and_graph_steps(trained, relative, which):
    """Frames do not depend on how they are requested, a raw graph step between them does not
    disturb the stream, and setting the controls the stream already has changes nothing
    (both positional forms)."""
    onnx = trained[("transformer", "fp32")] if which == "absolute" else relative["fp32"]
    path = str(onnx.with_suffix(".fkm"))
    one, many = NativeModel(path), NativeModel(path)
    one.stream_reset(None, 9)
    many.stream_reset(None, 9)
    a = np.concatenate([one.stream_next(1) for _ in range(20)], axis=1)
    defaults = Runtime(onnx, backend="native").schema.values({})
    b = [many.stream_next(5)]
    n, S = many.info["n_mels"], many.info["window_frames"]
    many.run_step(np.zeros(n, np.float32), many.encode_controls(defaults) * 0.5,
                  np.ones(n, np.float32), np.full((S, n), -3.0, np.float32))
    many.stream_set_controls(defaults)  # the controls it already has
    b += [many.stream_next(8), many.stream_next(7)]
    np.testing.assert_array_equal(a, np.concatenate(b, axis=1))


def _rewrite_fkm(src, arch=None, meta=None, drop=(), change=None):
    """The .fkm ``src`` with its architecture / meta entries replaced, tensors dropped or
    replaced, written validly (fresh checksum) so only the architecture checks can object."""
    from foleykit.export.native import _pack, read_native

    header, tensors = read_native(src)
    header = {k: v for k, v in header.items() if k != "tensors"}
    header["architecture"] = {**header["architecture"], **(arch or {})}
    header["meta"] = {**header["meta"], **(meta or {})}
    tensors = {k: v for k, v in tensors.items() if k not in drop}
    tensors.update(change or {})
    return _pack(header, tensors)


def test_relative_bad_files_are_refused(relative):
    src = relative["fp32"].with_suffix(".fkm")
    NativeModel.from_bytes(_rewrite_fkm(src))  # the rewrite itself is a valid file
    bias = np.zeros((4, 8), np.float32)
    cases = [
        (dict(drop=("blocks.1.rel_bias",)), "lacks tensor 'blocks.1.rel_bias'"),
        (dict(change={"blocks.0.rel_bias": np.zeros((4, 9), np.float32)}),
         r"'blocks.0.rel_bias' has shape \[4, 9\]"),
        (dict(change={"pos": np.zeros((8, 32), np.float32)}), "does not use"),
        (dict(arch={"positional": "rotary"}), "positional"),
        (dict(arch={"positional": 1}), "positional"),
        (dict(meta={"window_frames": 8}), "window_frames"),
        (dict(meta={"attention_window": 7}), "attention_window"),
        (dict(arch={"window": 9}, change={"blocks.0.rel_bias": bias}), "window_frames"),
    ]
    for kw, msg in cases:
        with pytest.raises(DSPError, match=msg):
            NativeModel.from_bytes(_rewrite_fkm(src, **kw))
    # the relative form's file claiming the absolute form
    with pytest.raises(DSPError, match="window_frames differs"):
        NativeModel.from_bytes(_rewrite_fkm(src, arch={"positional": "absolute"}))
    # and an absolute model's file claiming the relative form
    from pathlib import Path

    absolute = Path(__file__).resolve().parents[1] / "native/tests/fuzz_corpus" \
        / "model_transformer_tiny.fkm"
    NativeModel.from_bytes(absolute.read_bytes())
    with pytest.raises(DSPError, match="window_frames"):
        NativeModel.from_bytes(_rewrite_fkm(absolute, arch={"positional": "relative"}))


@pytest.mark.parametrize("which", ["absolute", "relative"])
def test_refused_controls_leave_the_stream_as_it_was(trained, which):
    """A control value the model refuses raises and changes nothing: the stream goes on with
    the controls it had (both positional forms; the bad value is the last control, so a
    check that writes as it goes would already have changed the others)."""
    path = (str(trained[("transformer", "fp32")].with_suffix(".fkm")) if which == "absolute"
            else str(default.native_path("ambiences")))
    schema = Runtime(path, backend="native").schema
    ref, probe = NativeModel(path), NativeModel(path)
    good = schema.values({})
    other = good.copy()
    for i, c in enumerate(schema.controls):  # every control moved away from its default
        other[i] = (len(c.choices) - 1) if c.kind == "categorical" else c.high
    bad = other.copy()
    bad[-1] = np.float32(np.nan)
    for m in (ref, probe):
        m.stream_reset(good, 5)
        m.stream_next(3)
    with pytest.raises(DSPError):
        probe.stream_set_controls(bad)
    np.testing.assert_array_equal(probe.stream_next(12), ref.stream_next(12))

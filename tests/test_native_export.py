"""foleykit.export.native: the .fkm file derived from an exported ONNX file alone.

The numpy reference (reference_forward), which sees nothing but the .fkm contents, matches
ONNX Runtime on the .onnx for every family and weight precision, and the stored weights are
bit-for-bit what ONNX Runtime computes from fp16/int8 weights: together these prove the
converter. The file layout is the one native/src/model/format.hpp describes, damaged .fkm
files are refused, and ONNX files that are not FoleyKit's (or whose graph was tampered
with) are refused with a message naming the problem."""
from __future__ import annotations

import argparse
import json
import struct

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from foleykit.export import ModelFileError, load_metadata
from foleykit.export.cli import add_export_parser
from foleykit.export.metadata import set_metadata
from foleykit.export.native import (ALIGN, fnv1a64, read_native, reference_forward,
                                    write_native)
from foleykit.models import ControlSchema, seed_noise
from foleykit.models import default
from foleykit.train.__main__ import main as train_main

FAMILIES = ("vae", "gan", "transformer", "relative")  # relative: the Transformer's other form
PRECISIONS = ("fp32", "fp16", "int8")
FLAGS = {"fp32": [], "fp16": ["--fp16"], "int8": ["--precision", "int8"]}
ATOL = 1e-4


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("native_runs")
    out = {}
    for fam in FAMILIES:
        if fam == "relative":
            continue
        assert train_main(["--out", str(root / fam), "--model", fam, "--smoke-test",
                           "--no-progress"]) == 0
        out[fam] = root / fam
    # the relative positional form, its distance biases (which start at zero) made random
    cfg = root / "relative.json"
    cfg.write_text(json.dumps({"model": "transformer", "model_config": {
        "window": 8, "positional": "relative"}}))
    assert train_main(["--out", str(root / "relative"), "--config", str(cfg), "--smoke-test",
                       "--no-progress"]) == 0
    ck_path = root / "relative" / "checkpoint.pt"
    ck = torch.load(ck_path, weights_only=True)
    gen = torch.Generator().manual_seed(0)
    for k in [k for k in ck["model"] if k.endswith("rel_bias")]:
        ck["model"][k] = torch.randn(ck["model"][k].shape, generator=gen)
    torch.save(ck, ck_path)
    out["relative"] = root / "relative"
    return out


def _cli(*argv) -> int:
    parser = argparse.ArgumentParser()
    add_export_parser(parser.add_subparsers())
    args = parser.parse_args(["export", *argv])
    return args.run(args)


@pytest.fixture(scope="module")
def exports(runs, tmp_path_factory):
    """{(family, precision): model.onnx}, each exported by the CLI (which writes the .fkm)."""
    root = tmp_path_factory.mktemp("native_exports")
    out = {}
    for fam in FAMILIES:
        for prec in PRECISIONS:
            path = root / f"{fam}_{prec}.onnx"
            assert _cli(str(runs[fam]), "--out", str(path), *FLAGS[prec]) == 0
            out[fam, prec] = path
    return out


def _session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _expected_tensors(arch):
    """Names and shapes format.hpp lists for an architecture, in its order."""
    if arch["kind"] == "clip_decoder":
        C, K, c, n = arch["channels"], arch["kernel"], arch["c_dim"], arch["n_mels"]
        stages = (arch["frames"] // arch["base_frames"]).bit_length() - 1
        assert arch["base_frames"] << stages == arch["frames"]
        t = [("fc.weight", [C * arch["base_frames"], arch["z_dim"] + c]),
             ("fc.bias", [C * arch["base_frames"]])]
        t += [x for i in range(stages + 1)
              for x in ((f"convs.{i}.weight", [C, C, K]), (f"convs.{i}.bias", [C]))]
        t += [x for i in range(stages + 1)
              for x in ((f"cond.{i}.weight", [C, c]), (f"cond.{i}.bias", [C]))]
        return t + [("out.weight", [n + 1, C, 3]), ("out.bias", [n + 1]), ("stats.lo", []),
                    ("stats.hi", [])]
    d, n, c, ff = arch["d_model"], arch["n_mels"], arch["c_dim"], arch["ff"]
    relative = arch.get("positional") == "relative"
    t = [("inp.weight", [d, n]), ("inp.bias", [d]), ("ctrl.weight", [d, c]), ("ctrl.bias", [d])]
    if not relative:
        t.append(("pos", [arch["window"], d]))
    for i in range(arch["layers"]):
        b = f"blocks.{i}."
        t += [(b + "ln1.weight", [d]), (b + "ln1.bias", [d]), (b + "ln2.weight", [d]),
              (b + "ln2.bias", [d]), (b + "qkv.weight", [3 * d, d]), (b + "qkv.bias", [3 * d]),
              (b + "proj.weight", [d, d]), (b + "proj.bias", [d]),
              (b + "mlp.0.weight", [ff, d]), (b + "mlp.0.bias", [ff]),
              (b + "mlp.2.weight", [d, ff]), (b + "mlp.2.bias", [d])]
        if relative:
            t.append((b + "rel_bias", [arch["heads"], arch["window"]]))
    t += [("ln.weight", [d]), ("ln.bias", [d]), ("head.weight", [2 * n, d]),
          ("head.bias", [2 * n])]
    return t + [("stats." + k, []) for k in ("lo", "hi", "center", "spread", "level_lo",
                                              "level_hi")]


def _compare_with_ort(onnx_path, fkm_path, steps: int = 20, seeds=(0, 1, 2, 3)) -> float:
    """Max |reference - ONNX Runtime| over several seeds and control vectors (one-shots) or
    a rollout of ``steps`` frames fed back, controls changing mid-stream (step models)."""
    header, tensors = read_native(fkm_path)
    meta = load_metadata(onnx_path)
    schema = ControlSchema.from_dict(meta["control_schema"])
    sess = _session(onnx_path)
    rng = np.random.default_rng(7)
    c0 = schema.encode()[None]
    controls = [c0] + [np.clip(c0 + rng.uniform(-1, 1, c0.shape), 0, 1).astype(np.float32)
                       for _ in range(len(seeds) - 1)]
    worst = 0.0
    if meta["mode"] == "one_shot":
        for seed, c in zip(seeds, controls):
            z = seed_noise(seed, meta["z_dim"])[None]
            mel_o, alive_o = sess.run(None, {"z": z, "controls": c})
            mel_r, alive_r = reference_forward(header, tensors, z=z, controls=c)
            assert mel_r.shape == mel_o.shape and alive_r.shape == alive_o.shape
            np.testing.assert_allclose(mel_r, mel_o, atol=ATOL, rtol=0)
            np.testing.assert_allclose(alive_r, alive_o, atol=ATOL, rtol=1e-5)
            worst = max(worst, float(np.abs(mel_r - mel_o).max()))
        return worst
    n, lo = meta["n_mels"], float(tensors["stats.lo"])
    f_o = f_r = np.full((1, n), lo, np.float32)
    s_o = s_r = np.full((1, meta["window_frames"], n), lo, np.float32)
    frames = []
    for k in range(steps):
        c = controls[0] if k < steps // 2 else controls[1]
        noise = seed_noise(11, n, stream=k)[None]
        f_o, s_o = sess.run(None, {"frame": f_o, "controls": c, "noise": noise, "state": s_o})
        f_r, s_r = reference_forward(header, tensors, frame=f_r, controls=c, noise=noise,
                                     state=s_r)
        np.testing.assert_allclose(f_r, f_o, atol=ATOL, rtol=0)
        np.testing.assert_allclose(s_r, s_o, atol=ATOL, rtol=0)
        worst = max(worst, float(np.abs(f_r - f_o).max()))
        frames.append(f_o)
    assert np.ptp(np.concatenate(frames)) > 0.1  # a stream, not a clamped constant
    return worst


# -- export writes both files ------------------------------------------------------------------

def test_cli_export_writes_onnx_and_fkm(exports, capsys):
    capsys.readouterr()
    for (fam, prec), path in exports.items():
        fkm = path.with_suffix(".fkm")
        assert path.is_file() and fkm.is_file(), (fam, prec)
        meta = load_metadata(path)
        header, _ = read_native(fkm)
        assert header["format"] == "foleykit-native" and header["version"] == 1
        assert header["onnx_content_hash"] == meta["content_hash"]
        assert header["meta"] == {k: v for k, v in meta.items() if k != "content_hash"}
        assert header["meta"]["precision"] == prec  # what the ONNX weights were; .fkm is fp32
        kind = "causal_transformer" if fam in ("transformer", "relative") else "clip_decoder"
        assert header["architecture"]["kind"] == kind


def test_cli_prints_both_paths(runs, tmp_path, capsys):
    out = tmp_path / "sub" / "m.onnx"
    assert _cli(str(runs["vae"]), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and str(out.with_suffix(".fkm")) in printed


def test_cli_native_from_converts_an_existing_onnx(exports, tmp_path, capsys):
    src = exports["gan", "fp32"]
    assert _cli("--native-from", str(src), "--out", str(tmp_path / "g.fkm")) == 0
    assert str(tmp_path / "g.fkm") in capsys.readouterr().out
    assert (tmp_path / "g.fkm").read_bytes() == src.with_suffix(".fkm").read_bytes()
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(src.read_bytes())
    assert _cli("--native-from", str(copy)) == 0  # default: beside it
    assert copy.with_suffix(".fkm").read_bytes() == src.with_suffix(".fkm").read_bytes()
    # misuse and bad input: exit 2 with a message
    assert _cli(str(tmp_path), "--native-from", str(copy)) == 2
    assert "not both" in capsys.readouterr().err
    assert _cli("--native-from", str(copy), "--int8") == 2
    assert "float32" in capsys.readouterr().err
    assert _cli("--native-from", str(tmp_path / "missing.onnx")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _cli("--out", str(tmp_path / "x.onnx")) == 2
    assert "RUN" in capsys.readouterr().err
    assert _cli("--native-from", str(copy), "--out", str(copy)) == 2
    assert "ONNX file itself" in capsys.readouterr().err
    load_metadata(copy)  # untouched


def test_export_refuses_an_fkm_output_path(runs, tmp_path, capsys):
    assert _cli(str(runs["vae"]), "--out", str(tmp_path / "m.fkm")) == 2
    assert ".fkm" in capsys.readouterr().err
    assert not (tmp_path / "m.fkm").exists()


# -- the file ----------------------------------------------------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_layout_follows_format_hpp(exports, family):
    fkm = exports[family, "fp32"].with_suffix(".fkm")
    data = fkm.read_bytes()
    magic, version, json_bytes, data_bytes, checksum = struct.unpack_from("<8sIIQQ", data)
    assert magic == b"FKMODEL\0" and version == 1
    data_start = (32 + json_bytes + 63) // 64 * 64
    assert len(data) == data_start + data_bytes
    assert checksum == fnv1a64(data[32:])
    assert not any(data[32 + json_bytes:data_start])
    raw = data[32:32 + json_bytes]
    header = json.loads(raw)
    # compact, sorted keys: the writer's canonical form
    assert raw == json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    table = header["tensors"]
    assert [(e["name"], e["shape"]) for e in table] == _expected_tensors(header["architecture"])
    ends = 0
    for e in table:
        assert e["dtype"] == "float32" and e["offset"] % ALIGN == 0 and e["offset"] >= ends
        nbytes = 4 * int(np.prod(e["shape"]))
        assert not any(data[data_start + ends:data_start + e["offset"]])  # zero padding
        ends = e["offset"] + nbytes
    assert ends == data_bytes
    arch = header["architecture"]
    if family == "transformer":
        assert set(arch) == {"kind", "c_dim", "n_mels", "window", "d_model", "heads", "layers",
                             "ff", "ln_eps", "log_std_min", "log_std_max"}
        assert (arch["heads"], arch["layers"], arch["ln_eps"], arch["log_std_min"]) == \
            (4, 2, 1e-5, -5.0)
        assert arch["window"] == header["meta"]["window_frames"]
        assert "positional" not in header["meta"]  # the absolute form's files are unchanged
    elif family == "relative":
        assert set(arch) == {"kind", "c_dim", "n_mels", "window", "d_model", "heads", "layers",
                             "ff", "ln_eps", "log_std_min", "log_std_max", "positional"}
        assert arch["positional"] == "relative" and arch["window"] == 8
        meta = header["meta"]
        assert meta["positional"] == "relative" and meta["attention_window"] == 8
        assert meta["window_frames"] == arch["layers"] * (8 - 1) + 1
    else:
        assert set(arch) == {"kind", "z_dim", "c_dim", "n_mels", "frames", "channels",
                             "base_frames", "kernel", "leaky_slope"}
        assert arch["leaky_slope"] == 0.2 and arch["frames"] == header["meta"]["max_frames"]
        assert arch["z_dim"] == header["meta"]["z_dim"]


@pytest.mark.parametrize("family", FAMILIES)
def test_round_trip_and_determinism(exports, tmp_path, family):
    src = exports[family, "fp32"]
    header, tensors = read_native(src.with_suffix(".fkm"))
    again = write_native(src, tmp_path / "again.fkm")
    assert again.read_bytes() == src.with_suffix(".fkm").read_bytes()  # deterministic
    proto = onnx.load(str(src))
    named = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    for name, v in tensors.items():
        assert v.dtype == np.float32 and list(v.shape) == \
            next(e["shape"] for e in header["tensors"] if e["name"] == name)
        # named ONNX initializers land unchanged under their module names
        for prefix in ("decoder.", "model."):
            if prefix + name in named:
                assert np.array_equal(named[prefix + name], v), name


@pytest.mark.parametrize("precision", ("fp16", "int8"))
@pytest.mark.parametrize("family", FAMILIES)
def test_compressed_weights_are_what_onnxruntime_computes(exports, family, precision):
    """Every Cast / DequantizeLinear output, as ONNX Runtime computes it, is bit-for-bit a
    tensor of the .fkm (transposed for MatMul weights)."""
    src = exports[family, precision]
    proto = onnx.load(str(src))
    names = [n.output[0] for n in proto.graph.node if n.op_type in ("Cast", "DequantizeLinear")
             and n.input[0].endswith(("__fp16", "__q"))]
    assert names
    for name in names:
        proto.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.zeros([d.dim_value for d in i.type.tensor_type.shape.dim], np.float32)
             for i in proto.graph.input}
    values = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    _, tensors = read_native(src.with_suffix(".fkm"))
    for name in names:
        v = values[name]
        short = name.split(".", 1)[1] if name.startswith(("decoder.", "model.")) else None
        if short in tensors:
            assert np.array_equal(tensors[short], v), name
        else:  # unnamed MatMul weight [in, out] or the folded positional embedding
            assert any(np.array_equal(t, v.T) or np.array_equal(t, v)
                       for t in tensors.values() if t.size == v.size), name


# -- the reference equals ONNX Runtime ---------------------------------------------------------

@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("family", FAMILIES)
def test_reference_matches_onnxruntime(exports, family, precision):
    src = exports[family, precision]
    worst = _compare_with_ort(src, src.with_suffix(".fkm"))
    assert worst < ATOL


@pytest.mark.parametrize("kind", default.KINDS)
def test_default_models_ship_their_fkm(kind, tmp_path):
    onnx_path, fkm = default.path(kind), default.native_path(kind)
    assert fkm == default.path(kind, native=True) == onnx_path.with_suffix(".fkm")
    header, _ = read_native(fkm)
    assert header["onnx_content_hash"] == load_metadata(onnx_path)["content_hash"]
    # the shipped file is exactly what the converter makes from the shipped ONNX file
    assert write_native(onnx_path, tmp_path / "m.fkm").read_bytes() == fkm.read_bytes()
    assert _compare_with_ort(onnx_path, fkm) < ATOL


def test_reference_checks_its_inputs(exports):
    header, tensors = read_native(exports["vae", "fp32"].with_suffix(".fkm"))
    with pytest.raises(ValueError, match="shape"):
        reference_forward(header, tensors, z=np.zeros((1, 3), np.float32),
                          controls=np.zeros((1, header["architecture"]["c_dim"]), np.float32))
    with pytest.raises(ValueError, match="takes inputs"):
        reference_forward(header, tensors, frame=np.zeros((1, 80), np.float32))


# -- damaged .fkm files ------------------------------------------------------------------------

def test_damaged_fkm_is_refused(exports, tmp_path):
    data = exports["transformer", "fp32"].with_suffix(".fkm").read_bytes()
    (json_bytes,) = struct.unpack_from("<I", data, 12)
    cases = {
        "truncated": (data[: len(data) // 2], "truncated"),
        "tail_cut": (data[:-3], "truncated"),
        "header_only": (data[:20], "truncated"),
        "trailing": (data + b"\0", "trailing"),
        "flipped_data": (data[:-100] + bytes([data[-100] ^ 1]) + data[-99:], "checksum"),
        "flipped_json": (data[:40] + bytes([data[40] ^ 0x20]) + data[41:], "checksum"),
        "bad_magic": (b"FKMODEX\0" + data[8:], "magic"),
        "version": (data[:8] + struct.pack("<I", 2) + data[12:], "version"),
        "huge_json": (data[:12] + struct.pack("<I", 1 << 30) + data[16:], "JSON header length"),
        "checksum": (data[:24] + struct.pack("<Q", 0) + data[32:], "checksum"),
        "empty": (b"", "truncated"),
    }
    for name, (blob, msg) in cases.items():
        bad = tmp_path / f"{name}.fkm"
        bad.write_bytes(blob)
        with pytest.raises(ModelFileError, match=msg):
            read_native(bad)
    assert json_bytes > 2
    with pytest.raises(ModelFileError, match="does not exist"):
        read_native(tmp_path / "missing.fkm")


def test_reader_checks_the_table_even_with_a_valid_checksum(exports, tmp_path):
    """A well-formed file whose table lies (re-checksummed): refused by content checks."""
    data = exports["vae", "fp32"].with_suffix(".fkm").read_bytes()
    _, _, json_bytes, data_bytes = struct.unpack_from("<8sIIQ", data)
    header = json.loads(data[32:32 + json_bytes])
    section = data[len(data) - data_bytes:]

    def rewrite(mutate, name):
        h = json.loads(json.dumps(header))
        mutate(h)
        js = json.dumps(h, sort_keys=True, separators=(",", ":")).encode()
        pad = b"\0" * ((32 + len(js) + 63) // 64 * 64 - 32 - len(js))
        body = js + pad + section
        p = tmp_path / f"{name}.fkm"
        p.write_bytes(struct.pack("<8sIIQQ", b"FKMODEL\0", 1, len(js), data_bytes,
                                  fnv1a64(body)) + body)
        return p

    read_native(rewrite(lambda h: None, "unchanged"))  # the rewriting itself is sound

    def unaligned(h):
        h["tensors"][1]["offset"] += 4

    def overlap(h):
        h["tensors"][1]["offset"] = h["tensors"][0]["offset"]

    def past_end(h):
        h["tensors"][-1]["offset"] += 1 << 20

    def dtype(h):
        h["tensors"][0]["dtype"] = "int8"

    def dup(h):
        h["tensors"][1]["name"] = h["tensors"][0]["name"]

    for fn, msg in ((unaligned, "unaligned"), (overlap, "overlap"), (past_end, "past the end"),
                    (dtype, "dtype"), (dup, "duplicate")):
        with pytest.raises(ModelFileError, match=msg):
            read_native(rewrite(fn, fn.__name__))


# -- ONNX files the converter refuses ----------------------------------------------------------

def test_non_foleykit_onnx_is_refused(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    plain = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])],
                                                  "g", [x], [y])), str(plain))
    with pytest.raises(ModelFileError, match="not a complete FoleyKit model"):
        write_native(plain)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"definitely not protobuf")
    with pytest.raises(ModelFileError, match="not a readable ONNX model|not a complete"):
        write_native(garbage)
    assert not plain.with_suffix(".fkm").exists() and not garbage.with_suffix(".fkm").exists()


def _resign(proto, path):
    """Writes ``proto`` with a fresh content hash, so only the converter can object."""
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props if p.key != "content_hash"}
    set_metadata(proto, meta)
    path.write_bytes(proto.SerializeToString())
    return path


def _node(proto, pred):
    return next(n for n in proto.graph.node if pred(n))


def _set_meta(proto, key, value):
    next(p for p in proto.metadata_props if p.key == key).value = json.dumps(value)


def _mangle_family(p):
    _set_meta(p, "model_family", "diffusion")


def _drop_bias(p):
    init = next(t for t in p.graph.initializer if t.name == "decoder.convs.1.bias")
    p.graph.initializer.remove(init)


def _second_slope(p):
    n = _node(p, lambda n: n.op_type == "LeakyRelu" and "act_2" in n.name)
    next(a for a in n.attribute if a.name == "alpha").f = 0.1


def _wrong_bound(p):
    t = next(t for t in p.graph.initializer if not len(t.dims) and t.name.startswith("onnx::Mul"))
    t.CopyFrom(numpy_helper.from_array(np.array(3.0, np.float32), t.name))


def _extra_stage(p):
    _set_meta(p, "max_frames", 256)


def _tanh_gelu(p):
    _node(p, lambda n: n.op_type == "Erf").op_type = "Tanh"


def _wrong_heads(p):
    for n in p.graph.node:  # every block's [1, T, 3, heads, head_dim]
        if n.op_type == "Constant" and list(numpy_helper.to_array(n.attribute[0].t).shape) == [5]:
            n.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array([1, 32, 3, 5, 24],
                                                                        np.int64)))


def _no_clip(p):
    n = _node(p, lambda n: n.op_type == "Clip")
    n.op_type = "Identity"
    del n.input[1:]


def _no_pos(p):
    n = _node(p, lambda n: n.op_type == "Add" and n.name == "/model/Add")
    n.op_type = "Sub"


def _cast_activation(p):
    n = _node(p, lambda n: n.op_type == "Sigmoid")
    n.op_type = "Cast"
    n.attribute.append(helper.make_attribute("to", TensorProto.FLOAT))


def _softmax_input(p, block):
    sm = _node(p, lambda n: n.op_type == "Softmax" and f"blocks.{block}/" in n.name)
    return _node(p, lambda n: n.output[0] == sm.input[0])


def _wide_band(p):
    """The band mask of block 1 lets each row see one row more than the window."""
    add = _softmax_input(p, 1)
    const = _node(p, lambda n: n.output[0] in add.input and n.op_type == "Constant")
    m = numpy_helper.to_array(const.attribute[0].t).copy()
    rel = np.arange(m.shape[0])[:, None] - np.arange(m.shape[0])[None, :]
    m[rel == 8] = 0.0
    const.attribute[0].t.CopyFrom(numpy_helper.from_array(m))


def _shifted_distance(p):
    """The distance index of the bias off by one (a shared Constant: every block sees it)."""
    add = _softmax_input(p, 0)
    bias_add = _node(p, lambda n: n.output[0] == add.input[0])
    gather = _node(p, lambda n: n.output[0] in bias_add.input and n.op_type == "Gather")
    const = _node(p, lambda n: n.output[0] == gather.input[1])
    idx = numpy_helper.to_array(const.attribute[0].t)
    const.attribute[0].t.CopyFrom(numpy_helper.from_array(np.minimum(idx + 1, 7)))


def _no_distance_bias(p):
    """Block 0 adds its scores to themselves instead of the distance bias."""
    add = _softmax_input(p, 0)
    bias_add = _node(p, lambda n: n.output[0] == add.input[0])
    bias_add.input[1] = bias_add.input[0]


def _meta_says_absolute(p):
    keep = [x for x in p.metadata_props if x.key not in ("positional", "attention_window")]
    del p.metadata_props[:]
    p.metadata_props.extend(keep)


def _state_too_short(p):
    _set_meta(p, "attention_window", 9)


def _swapped_linears(p):
    a = _node(p, lambda n: n.name == "/model/blocks.0/qkv/MatMul")
    b = _node(p, lambda n: n.name == "/model/blocks.1/qkv/MatMul")
    a.name, b.name = b.name, a.name


@pytest.mark.parametrize("family, mangle, msg", [
    ("vae", _mangle_family, "model family 'diffusion' has no native architecture"),
    ("vae", _drop_bias, "no float weight named 'decoder.convs.1.bias'"),
    ("gan", _second_slope, "LeakyRelu"),
    ("vae", _wrong_bound, "bound constant 1.1 \\* span"),
    ("vae", _cast_activation, "converts a computed value"),
    ("gan", _extra_stage, "shape"),
    ("transformer", _tanh_gelu, "uses Tanh"),
    ("transformer", _wrong_heads, "does not split d_model"),
    ("transformer", _no_clip, "Identity node .* converts a computed value"),
    ("transformer", _no_pos, "positional embedding"),
    ("transformer", _swapped_linears, "belongs to 'blocks.1.qkv'"),
    ("relative", _wide_band, "not masked to a causal band of 8 rows"),
    ("relative", _shifted_distance, "not indexed by the distance"),
    ("relative", _no_distance_bias, "adds no Gather of a distance bias"),
    ("relative", _state_too_short, "takes 17 frames of state"),
    ("relative", _meta_says_absolute, "positional embedding"),
])
def test_mangled_graphs_are_refused(exports, tmp_path, family, mangle, msg):
    proto = onnx.load(str(exports[family, "fp32"]))
    mangle(proto)
    path = _resign(proto, tmp_path / "mangled.onnx")
    with pytest.raises(ModelFileError, match=msg):
        write_native(path)
    assert not path.with_suffix(".fkm").exists()


def test_a_generator_prefix_converts_the_same(exports, tmp_path):
    """The clip decoder's weights are found by graph and suffix, not by one fixed prefix."""
    src = exports["gan", "fp32"]
    proto = onnx.load(str(src))
    rename = {t.name: "generator." + t.name[len("decoder."):]
              for t in proto.graph.initializer if t.name.startswith("decoder.")}
    for t in proto.graph.initializer:
        t.name = rename.get(t.name, t.name)
    for n in proto.graph.node:
        n.input[:] = [rename.get(i, i) for i in n.input]
    path = _resign(proto, tmp_path / "gen.onnx")
    _, a = read_native(write_native(path))
    _, b = read_native(src.with_suffix(".fkm"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)

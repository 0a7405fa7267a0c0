"""``foleykit export RUN --out model.onnx [--precision fp32|fp16|int8]`` (writes model.onnx
and the native model.fkm beside it) and ``foleykit export --native-from model.onnx [--out m.fkm]``
(derives the .fkm of an existing exported ONNX file)."""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_export_parser", "run_export", "register"]


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export", help="export a trained run to ONNX and the native .fkm",
        description="Export a run folder's checkpoint to ONNX (opset 15) with its feature\n"
                    "settings, control schema and a content hash in the metadata, and write\n"
                    "the native runtime's model file (.fkm, float32) beside it. With\n"
                    "--native-from, derive the .fkm of an existing exported .onnx file\n"
                    "instead (e.g. one exported by an older FoleyKit).",
        epilog="examples:\n"
               "  foleykit export runs/rain --out rain.onnx      # rain.onnx + rain.fkm\n"
               "  foleykit export --native-from rain.onnx        # rain.fkm from rain.onnx\n"
               "  foleykit export --native-from rain.onnx --out native/rain.fkm",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN", nargs="?",
                   help="run folder written by foleykit train (or a checkpoint.pt)")
    p.add_argument("--out", help="output .onnx file (the .fkm is written beside it); with "
                                 "--native-from, the output .fkm file (default: MODEL.onnx "
                                 "with suffix .fkm)")
    p.add_argument("--native-from", metavar="MODEL.onnx",
                   help="convert this exported ONNX file to the native .fkm format only "
                        "(no RUN, no training checkpoint needed)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--precision", choices=("fp32", "fp16", "int8"),
                   help="how the ONNX file stores its weights (default fp32)")
    g.add_argument("--fp16", action="store_true", help="same as --precision fp16")
    g.add_argument("--int8", action="store_true", help="same as --precision int8")
    p.set_defaults(run=run_export)
    return p


register = add_export_parser


def _fail(msg: str) -> int:
    print(f"foleykit export: {msg}", file=sys.stderr)
    return 2


def run_export(args: argparse.Namespace) -> int:
    native_from = getattr(args, "native_from", None)
    if native_from:
        if args.run_dir is not None:
            return _fail("give either RUN or --native-from, not both")
        if args.fp16 or args.int8 or args.precision:
            return _fail("--precision/--fp16/--int8 choose the ONNX weights; the .fkm is "
                         "always float32")
        from .native import write_native

        try:
            path = write_native(native_from, args.out)
        except ValueError as e:
            return _fail(str(e))
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, native float32)")
        return 0
    if args.run_dir is None or args.out is None:
        return _fail("needs RUN and --out (or --native-from MODEL.onnx)")
    from .onnx_export import export_run

    precision = "fp16" if args.fp16 else "int8" if args.int8 else args.precision or "fp32"
    try:
        path = export_run(args.run_dir, args.out, precision)
    except ValueError as e:
        return _fail(str(e))
    fkm = path.with_suffix(".fkm")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {precision})")
    print(f"wrote {fkm} ({fkm.stat().st_size / 1024:.0f} KiB, native float32)")
    if precision != "fp32":
        import onnx

        from .quality import compaction_cost

        # The .fkm holds the float32 weights the compacted file expands to; compare the
        # compacted graph with the float32 graph it came from.
        from .onnx_export import export_run as _export_fp32
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            ref = _export_fp32(args.run_dir, Path(tmp) / "fp32.onnx", "fp32", native=False)
            cost = compaction_cost(onnx.load(str(ref)), precision)
        print(f"quality cost of {precision} weights (log-mel vs float32, natural-log units): "
              f"max {cost['max_abs']:.4f}, mean {cost['mean_abs']:.5f}, p99 "
              f"{cost['p99_abs']:.4f}; largest frame-level change {cost['max_frame_level_db']:.3f} dB")
    return 0

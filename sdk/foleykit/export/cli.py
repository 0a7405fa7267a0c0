"""``foleykit export RUN --out model.onnx [--fp16 | --int8]``."""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_export_parser", "run_export", "register"]


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export", help="export a trained run to ONNX",
        description="Export a run folder's checkpoint to ONNX (opset 15) with its feature "
                    "settings, control schema and a content hash in the metadata.")
    p.add_argument("run_dir", metavar="RUN", help="run folder written by foleykit train (or a checkpoint.pt)")
    p.add_argument("--out", required=True, help="output .onnx file")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--fp16", action="store_true", help="store weights as float16")
    g.add_argument("--int8", action="store_true", help="store weights as per-channel int8")
    p.set_defaults(run=run_export)
    return p


register = add_export_parser


def run_export(args: argparse.Namespace) -> int:
    from .onnx_export import export_run

    precision = "fp16" if args.fp16 else "int8" if args.int8 else "fp32"
    try:
        path = export_run(args.run_dir, args.out, precision)
    except ValueError as e:
        print(f"foleykit export: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {precision})")
    return 0

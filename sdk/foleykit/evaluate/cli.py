"""``foleykit evaluate MODEL.onnx --data DIR [--out DIR] [--per-category N] [--seeds K]``.

Prints a table per category, writes ``evaluation.json`` and ``evaluation.png`` to ``--out``
(default ``<model name>_eval`` next to the model). Exits 0 when the evaluation ran, 2 for
input it cannot evaluate (missing or damaged model, unusable folder, no category in common).

The ``foleykit`` command hooks this in with :func:`add_evaluate_parser` (alias
``register``, the convention of :mod:`foleykit.cli`); :func:`run_evaluate` runs the parsed
arguments.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, TextIO

__all__ = ["add_evaluate_parser", "register", "run_evaluate", "run"]


def add_evaluate_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "evaluate", help="compare an exported model's sounds with real ones, per category",
        description="Generate clips from an exported model for every category it shares with "
                    "a sound folder it was not trained on, and measure per category: the "
                    "Frechet distance of log-mel statistics to the real clips, how often a "
                    "classifier trained on the real clips recognises the generated ones, "
                    "diversity across seeds, and the distance to the nearest reference clip "
                    "(possible copies of the data are flagged). Writes evaluation.json and "
                    "evaluation.png.")
    p.add_argument("model", metavar="MODEL.onnx", help="a model written by foleykit export")
    p.add_argument("--data", required=True, metavar="DIR",
                   help="sound folder of real clips (one sub-folder per category)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where evaluation.json and evaluation.png go "
                        "(default: <model name>_eval next to the model)")
    p.add_argument("--per-category", type=int, default=8, metavar="N",
                   help="control settings generated per category (8)")
    p.add_argument("--seeds", type=int, default=4, metavar="K",
                   help="seeds per control setting (4): N x K clips per category")
    p.add_argument("--seed", type=int, default=0, help="seed of the whole evaluation (0)")
    p.add_argument("--frames", type=int, default=256,
                   help="ambience models: frames streamed per clip, after the warm-up (256)")
    p.add_argument("--warmup", type=int, default=32,
                   help="ambience models: frames streamed and dropped first (32)")
    p.add_argument("--resynth", action="store_true",
                   help="measure the audio (phase reconstruction and re-analysis) instead of "
                        "the model's log-mel output")
    p.add_argument("--train-data", default=None, metavar="DIR",
                   help="the sound folder the model was trained on, for the nearest-clip "
                        "check (default: the --data folder)")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", metavar="DIR", default=None,
                       help="decoded-audio cache (default: $FOLEYKIT_CACHE_DIR or "
                            "~/.cache/foleykit)")
    cache.add_argument("--no-cache", action="store_true", help="decode without caching")
    p.add_argument("--workers", type=int, default=1, help="files decoded at once (1)")
    p.add_argument("--no-plot", action="store_true", help="skip evaluation.png")
    p.set_defaults(run=run_evaluate)
    return p


register = add_evaluate_parser


def run_evaluate(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Runs ``foleykit evaluate``; returns the exit status."""
    from .evaluation import EvaluationError, evaluate, format_table

    out = out or sys.stdout
    out_dir = Path(args.out) if args.out else Path(args.model).with_name(
        Path(args.model).stem + "_eval")
    cache = False if getattr(args, "no_cache", False) else getattr(args, "cache_dir", None)
    try:
        report = evaluate(args.model, args.data, out_dir, per_category=args.per_category,
                          seeds=args.seeds, seed=args.seed, frames=args.frames,
                          warmup=args.warmup, resynth=args.resynth,
                          train_data=args.train_data, cache_dir=cache, workers=args.workers,
                          plot=not args.no_plot)
    except (EvaluationError, ValueError) as e:
        print(f"foleykit evaluate: {e}", file=sys.stderr)
        return 2
    m, d = report["model"], report["data"]
    print(f"{m['path']} ({m['family']}, {m['mode']}) vs {d['path']} ({d['clips']} clips"
          + (f", {d['skipped_files']} files skipped" if d["skipped_files"] else "") + ")",
          file=out)
    skipped = report["skipped_categories"]
    if skipped["not_in_model"]:
        print("skipped (the model does not know them): " + ", ".join(skipped["not_in_model"]),
              file=out)
    if skipped["not_in_data"]:
        print("not evaluated (no real clips): " + ", ".join(skipped["not_in_data"]), file=out)
    print(file=out)
    print(format_table(report), file=out)
    clf = report["overall"]["classifier"]
    print(file=out)
    if clf["note"]:
        print(f"classifier: {clf['note']}", file=out)
    elif clf["real_heldout_accuracy"] is not None:
        print(f"classifier: {clf['real_heldout_accuracy']:.0%} on held-out real clips "
              f"({clf['real_heldout']}), {clf['generated_accuracy']:.0%} on generated", file=out)
    print("diversity: generated spread across seeds / real spread within the category; "
          "NN: distance to the nearest reference clip "
          f"({report['reference']['kind'].replace('_', '-')}), flagged below the threshold",
          file=out)
    for note in report["reference"]["notes"]:
        print(f"warning: {note}", file=out)
    for name, c in report["categories"].items():
        for w in c["warnings"]:
            print(f"warning: {name}: {w}", file=out)
        for f in c["nearest"]["flagged_clips"][:3]:
            print(f"possible copy: {name} setting {f['setting']} seed {f['seed']} is "
                  f"{f['distance']:.4f} from {f['nearest']}", file=out)
    outs = report.get("outputs", {})
    print(f"\nwrote {outs.get('json')}" + (f" and {outs['png']}" if outs.get("png") else ""),
          file=out)
    return 0


run = run_evaluate

"""``foleykit train``: train a model on the procedural corpus or a sound folder.

Runs the same under ``torchrun`` (one process per device, DistributedDataParallel)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_train_parser", "run_train", "register"]


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train", help="train a VAE, GAN or Transformer on the corpus or a sound folder",
        description="Train a compact conditional model. The run folder keeps the resolved "
                    "config (config.json), checkpoint.pt, previews/ (PNG + WAV) and loss.png.")
    p.add_argument("--data", default=None,
                   help='"corpus" (procedural corpus, generated on the fly) or a sound folder')
    p.add_argument("--model", choices=("vae", "gan", "transformer"), default=None)
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--config", default=None, help="settings file (.json or .toml)")
    p.add_argument("--smoke-test", action="store_true",
                   help="a few steps of the real pipeline on a few short clips")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--steps", type=int, default=None, help="total steps (overrides the config)")
    p.add_argument("--categories", default=None,
                   help="comma-separated corpus categories (default: all of the model's kind)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_train)
    return p


register = add_train_parser  # the name foleykit.cli's subcommand modules use


def run_train(args: argparse.Namespace) -> int:
    import json

    from .config import SMOKE, load_config_file, resolve_config
    from .loop import train

    out = Path(args.out)
    try:
        if args.resume:
            if not (out / "config.json").is_file():
                raise ValueError(f"--resume: {str(out)!r} has no config.json to resume")
            base = json.loads((out / "config.json").read_text())
            cfg = resolve_config(base, {"steps": args.steps})
        else:
            base = load_config_file(args.config) if args.config else {}
            overrides = {"data": args.data, "model": args.model, "seed": args.seed,
                         "categories": args.categories.split(",") if args.categories else None}
            if args.smoke_test:
                overrides.update(SMOKE)
                if not args.categories and "categories" not in base and \
                        (args.data or base.get("data", "corpus")) == "corpus":
                    family = args.model or base.get("model", "vae")
                    overrides["categories"] = (["rain", "wind"] if family == "transformer"
                                               else ["impact", "footstep"])
            overrides["steps"] = args.steps if args.steps is not None else overrides.get("steps")
            cfg = resolve_config(base, overrides)
        train(cfg, out, resume=args.resume, progress=not args.no_progress)
    except ValueError as e:
        print(f"foleykit train: {e}", file=sys.stderr)
        return 2
    return 0

"""The ``foleykit`` command: one entry point, one subcommand per concern.

Each subcommand lives in its own module here with a ``register(subparsers)`` function and
imports its heavy dependencies (torch, librosa, matplotlib) only when it runs, so
``foleykit --help`` stays fast. A new subcommand (corpus, dataset, train, export) is a new
module added to ``_COMMANDS``.
"""
from __future__ import annotations

import argparse
from typing import Optional, Sequence

from ..data import corpus, inspect as dataset
from ..evaluate import cli as evaluate
from ..export import cli as export
from ..train import cli as train
from . import bake, bench, demo, render, scene

__all__ = ["build_parser", "main"]

# Each has register(subparsers); heavy imports happen only when a subcommand runs.
_COMMANDS = (demo, bench, render, bake, scene, corpus, dataset, train, export, evaluate)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="foleykit",
        description="FoleyKit: procedural audio for game engines.")
    parser.add_argument("--version", action="version", version=f"foleykit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parses ``argv`` (default: ``sys.argv[1:]``), runs the subcommand, returns its exit
    status."""
    args = build_parser().parse_args(None if argv is None else list(argv))
    return int(args.run(args) or 0)

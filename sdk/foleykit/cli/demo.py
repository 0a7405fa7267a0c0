"""``foleykit demo``: the DSP demo; see :mod:`foleykit.demo`."""
from __future__ import annotations

import argparse


def register(subparsers: "argparse._SubParsersAction") -> None:
    demo = subparsers.add_parser(
        "demo", help="reduce test sounds to log-mel and rebuild them with every phase method",
        description="Reduces three test sounds (impact, noise bed, voiced) to the default "
        "80-band log-mel, rebuilds each with every phase method and writes WAVs, a "
        "spectrogram picture and a report (report.md, report.json) of quality and speed.")
    demo.add_argument("--out", default="demo_out", metavar="DIR",
                      help="output folder (default: demo_out)")
    demo.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from .. import demo

    demo.run(args.out)
    return 0

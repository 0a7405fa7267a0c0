"""``foleykit bench dsp``: measurements against peers; see :mod:`foleykit.bench.dsp`."""
from __future__ import annotations

import argparse


def register(subparsers: "argparse._SubParsersAction") -> None:
    # foleykit.bench.dsp imports only the standard library at module level.
    from ..bench import dsp as bench_dsp

    bench = subparsers.add_parser("bench", help="benchmarks against peer libraries",
                                  description="Benchmarks; they report, never fail on a target.")
    suites = bench.add_subparsers(dest="suite", metavar="SUITE")
    suites.required = True
    dsp = suites.add_parser(
        "dsp", help="STFT, iSTFT, Griffin-Lim, PGHI and streaming vs torch and librosa",
        description=bench_dsp.__doc__.split("\n\n")[0] + " Single-threaded; prints a "
        "markdown table and whether each target of the foundation issue is met.")
    bench_dsp.add_arguments(dsp)
    dsp.set_defaults(run=_run_dsp)
    from ..bench import model as bench_model

    model = suites.add_parser(
        "model", help="native model runtime vs ONNX Runtime on the default models",
        description=bench_model.__doc__.split("\n\n")[0])
    bench_model.add_arguments(model)
    model.set_defaults(run=_run_model)
    from ..bench import engine as bench_engine

    engine = suites.add_parser(
        "engine", help="engine latency (trigger to ready) and voices per core",
        description=bench_engine.__doc__.split("\n\n")[0])
    bench_engine.add_arguments(engine)
    engine.set_defaults(run=_run_engine)


def _run_dsp(args: argparse.Namespace) -> int:
    from ..bench import dsp as bench_dsp

    return bench_dsp.run_cli(args)


def _run_model(args: argparse.Namespace) -> int:
    from ..bench import model as bench_model

    return bench_model.run_cli(args)


def _run_engine(args: argparse.Namespace) -> int:
    from ..bench import engine as bench_engine

    return bench_engine.run_cli(args)

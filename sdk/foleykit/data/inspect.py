"""``foleykit dataset inspect DIR``: what a sound folder holds and what is wrong with it.

Prints one row per category (usable files, total, shortest and longest duration after
trimming silence, source sample rates, problem count), then every problem by file, then the
control ranges. Exits 0 when at least one file is usable, 1 otherwise.

The ``foleykit`` command hooks this in with :func:`add_dataset_parser` (alias ``register``,
the convention of :mod:`foleykit.cli`); :func:`run_dataset` runs the parsed arguments.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Dict, List, Optional, TextIO

__all__ = ["add_dataset_parser", "register", "run_dataset", "inspect_folder"]


def add_dataset_parser(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    """Adds ``dataset`` (with ``inspect``) to a ``foleykit`` subparsers object."""
    dataset = subparsers.add_parser(
        "dataset", help="work with a folder of your own sounds",
        description="Sound folders: one sub-folder per category of WAV, FLAC, OGG or MP3 "
        "files, with an optional labels.csv of controls per file.")
    sub = dataset.add_subparsers(dest="dataset_command", metavar="ACTION")
    sub.required = True
    inspect = sub.add_parser(
        "inspect", help="summarise a sound folder and list its problems",
        description="Decodes every file as training would (mono, resampled, silence "
        "trimmed), prints a table per category and every problem by file. Exits non-zero "
        "only if no file is usable.")
    inspect.add_argument("dir", metavar="DIR", help="the sound folder")
    inspect.add_argument("--sr", type=int, default=48000, help="model sample rate (48000)")
    cache = inspect.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", metavar="DIR", default=None,
                       help="decoded-audio cache (default: $FOLEYKIT_CACHE_DIR or "
                            "~/.cache/foleykit)")
    cache.add_argument("--no-cache", action="store_true", help="decode without caching")
    inspect.add_argument("--workers", type=int, default=1, help="files decoded at once (1)")
    dataset.set_defaults(run=run_dataset)
    return dataset


register = add_dataset_parser


def run_dataset(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    """Runs ``foleykit dataset ACTION``; returns the exit status."""
    if getattr(args, "dataset_command", None) == "inspect":
        cache = False if getattr(args, "no_cache", False) else getattr(args, "cache_dir", None)
        return inspect_folder(args.dir, sr=getattr(args, "sr", 48000), cache_dir=cache,
                              workers=getattr(args, "workers", 1), out=out)
    print(f"foleykit dataset: unknown action {getattr(args, 'dataset_command', None)!r}",
          file=sys.stderr)
    return 2


def inspect_folder(root, sr: int = 48000, cache_dir=None, workers: int = 1,
                   out: Optional[TextIO] = None) -> int:
    """Prints the inspection of ``root`` to ``out`` (stdout); returns 0 if any file is usable."""
    from .folder import LABELS_FILE, SoundFolder

    out = out or sys.stdout
    try:
        folder = SoundFolder(root, sr=sr, cache_dir=cache_dir, workers=workers)
    except (FileNotFoundError, NotADirectoryError) as err:
        print(f"foleykit dataset inspect: {err}", file=out)
        return 1

    by_cat = folder.by_category()
    category_of = {it.file: it.category for it in folder}
    problems: Dict[str, List[str]] = defaultdict(list)
    general: List[str] = []
    for file, reason in folder.report:
        if file == LABELS_FILE or file.startswith(LABELS_FILE + " "):
            general.append(f"{file}: {reason}" if not reason.startswith(LABELS_FILE) else reason)
            continue
        problems[_category_of(category_of, file)].append(f"{file}: {reason}")

    print(f"Sound folder {folder.root} at {folder.sr} Hz "
          "(durations after trimming silence)", file=out)
    rows = [("category", "files", "total", "shortest", "longest", "sample rates", "problems")]
    for cat in sorted(set(by_cat) | set(problems)):
        items = by_cat.get(cat, [])
        d = [it.duration for it in items]
        rates = ", ".join(_khz(r) for r in sorted({it.source_sr for it in items})) or "-"
        rows.append((cat, str(len(items)), _dur(sum(d)) if d else "-",
                     _dur(min(d)) if d else "-", _dur(max(d)) if d else "-", rates,
                     str(len(problems.get(cat, []))) if problems.get(cat) else "-"))
    _table(rows, out)

    if general or problems:
        print("\nProblems:", file=out)
        for line in general:
            print(f"  {line}", file=out)
        for cat in sorted(problems):
            for line in sorted(problems[cat]):
                print(f"  {line}", file=out)
    if folder.ignored:
        print(f"\nIgnored {len(folder.ignored)} file(s) that are not WAV, FLAC, OGG or MP3.",
              file=out)
    if folder.controls:
        print("\nControls (0..1 knobs span these ranges):", file=out)
        for spec in folder.controls.values():
            unit = f" {spec.unit}" if spec.unit else ""
            print(f"  {spec.name:<12} {spec.lo:.4g}..{spec.hi:.4g}{unit}"
                  f"{' (log scale)' if spec.log else ''}  [{spec.source}]", file=out)

    n_ok, n_skip = len(folder), len(folder.skipped)
    print(f"\n{n_ok} usable file(s) in {len(by_cat)} categories; {n_skip} skipped.", file=out)
    if n_ok == 0:
        print("Nothing usable: no model can be trained from this folder.", file=out)
        return 1
    return 0


def _category_of(known: Dict[str, str], file: str) -> str:
    if file in known:
        return known[file]
    parts = file.rstrip("/").split("/")
    return parts[0] if len(parts) > 1 else "(top level)"


def _table(rows, out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        cells = [c.ljust(w) if i in (0, 5) else c.rjust(w)
                 for i, (c, w) in enumerate(zip(r, widths))]
        print("  ".join(cells).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _dur(s: float) -> str:
    if s < 60:
        return f"{s:.2f} s"
    m, sec = divmod(int(round(s)), 60)
    return f"{m // 60}:{m % 60:02d}:{sec:02d}" if m >= 60 else f"{m}:{sec:02d}"


def _khz(rate: int) -> str:
    return f"{rate / 1000:g}k"

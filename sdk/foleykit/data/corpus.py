"""Writes the procedural corpus to disk: the ``foleykit corpus`` command.

Layout of ``out_dir``::

    <category>/<category>_0000.wav   mono WAV at sr (48 kHz by default), PCM_16 or FLOAT
    labels.csv                       file, category, then one column per control name
    corpus.json                      the resolved settings, control schema and item seeds
    contact_sheet.png                log-mel thumbnails, one row per category

Every item is reproducible on its own: its controls and seed are drawn from
``(seed, category, index)`` only, so a corpus of a few categories holds the same files as
the same items of the full corpus, and ``procedural.generate(category, seed=item_seed,
duration=..., **controls)`` with a row of labels.csv rebuilds a file's samples exactly
(continuous controls are drawn already rounded to the digits written).

Heavy imports (numpy, soundfile, matplotlib, tqdm, the generators) happen inside the
functions, so registering the subcommand costs nothing.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Union

__all__ = ["CorpusItem", "plan_corpus", "write_corpus", "add_corpus_parser", "run_corpus",
           "DEFAULT_AMBIENCE_DURATION"]

DEFAULT_AMBIENCE_DURATION = 4.0  # s per ambience file (the generators stream any length)
SHEET_COLUMNS = 6                # at most this many thumbnails per category
SUBTYPES = ("PCM_16", "FLOAT")


@dataclass
class CorpusItem:
    """One file of the corpus: where it goes and everything needed to make it again."""

    file: str                      # relative to out_dir, forward slashes
    category: str
    seed: int
    duration: float
    controls: Dict[str, Any] = field(default_factory=dict)


def _categories(categories: Union[None, str, Sequence[str]]) -> List[str]:
    from . import procedural

    if categories is None:
        return list(procedural.CATEGORIES)
    if isinstance(categories, str):
        categories = [c for c in (s.strip() for s in categories.split(",")) if c]
    names = list(dict.fromkeys(categories))
    if not names:
        raise ValueError("categories is empty; valid categories: "
                         + ", ".join(procedural.CATEGORIES))
    for name in names:
        procedural.get(name)  # ValueError listing the valid names
    return names


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def plan_corpus(per_class: int, seed: int, categories: Union[None, str, Sequence[str]] = None,
                duration_ambience: float = DEFAULT_AMBIENCE_DURATION) -> List[CorpusItem]:
    """The items of a corpus, without rendering anything.

    Item ``i`` of a category draws its controls and its generator seed from
    ``default_rng([seed, crc32(category), i])``. The category's first categorical control
    (material, surface, action, kind) cycles through its choices so that even a small
    corpus covers every one; the other controls are random (:func:`procedural.sample_controls`).
    """
    import numpy as np

    from . import procedural

    per_class = _check_int("per_class", per_class, 1)
    seed = _check_int("seed", seed, 0)
    duration_ambience = float(duration_ambience)
    if not 0.0 < duration_ambience <= procedural.MAX_DURATION:
        raise ValueError(f"duration_ambience must be in (0, {procedural.MAX_DURATION:g}] s, "
                         f"got {duration_ambience!r}")
    items = []
    for name in _categories(categories):
        cat = procedural.get(name)
        cycled = next((c for c in cat.controls if c.kind == "categorical"), None)
        for i in range(per_class):
            rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8")), i])
            controls = procedural.sample_controls(cat, rng)
            if cycled is not None:
                controls[cycled.name] = cycled.choices[i % len(cycled.choices)]
            items.append(CorpusItem(
                file=f"{name}/{name}_{i:04d}.wav", category=name,
                seed=int(rng.integers(2 ** 31)),
                duration=duration_ambience if cat.ambience else cat.default_duration,
                controls=controls))
    return items


def _format(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _write_labels(path: Path, items: Sequence[CorpusItem]) -> None:
    from . import procedural

    columns = ["file", "category", *procedural.control_names()]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for it in items:
            row = {k: "" for k in columns}
            row.update(file=it.file, category=it.category)
            row.update({k: _format(v) for k, v in it.controls.items()})
            writer.writerow(row)


_UNITS = {"semitones": "st", "steps/s": "/s"}


def _caption(item: CorpusItem) -> str:
    """``impact: metal, velocity 4.2 m/s, size 0.31 m`` in short form for a thumbnail."""
    from . import procedural

    cat = procedural.get(item.category)
    parts = []
    for c in cat.controls:
        v = item.controls[c.name]
        if c.kind == "categorical":
            parts.append(str(v))
        else:
            unit = _UNITS.get(c.unit, c.unit)
            parts.append(f"{c.name} {v:.3g}" + (f" {unit}" if unit else ""))
    return f"{item.category}\n{', '.join(parts)}"


def _contact_sheet(path: Path, thumbs: Dict[str, List[tuple]], sr: int, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    rows = len(thumbs)
    cols = max(len(v) for v in thumbs.values())
    fig, axes = plt.subplots(rows, cols, figsize=(2.1 * cols, 1.45 * rows), squeeze=False,
                             constrained_layout=True)
    for r, (name, cells) in enumerate(thumbs.items()):
        for k in range(cols):
            ax = axes[r][k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(cells):
                ax.axis("off")
                continue
            item, mel = cells[k]
            top = float(mel.max())
            seconds = mel.shape[1] * 256 / sr
            ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", vmin=top - 9.0,
                      vmax=top, extent=(0.0, seconds, 0, mel.shape[0]), interpolation="nearest")
            ax.set_title(_caption(item), fontsize=6.5, pad=2, linespacing=1.1)
            ax.text(0.98, 0.04, f"{seconds:.1f} s", transform=ax.transAxes, ha="right",
                    va="bottom", fontsize=5.5, color="white")
    fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_corpus(out_dir: Union[str, Path], per_class: int, seed: int,
                 categories: Union[None, str, Sequence[str]] = None, sr: int = 48000,
                 progress: bool = True,
                 duration_ambience: float = DEFAULT_AMBIENCE_DURATION,
                 subtype: str = "PCM_16") -> Path:
    """Renders ``per_class`` sounds of each category (all by default; a list or a
    comma-separated string) into ``out_dir`` and returns the path of its labels.csv.

    Also writes corpus.json (settings, schema, per-file seeds) and contact_sheet.png.
    ``subtype`` is "PCM_16" (half the size) or "FLOAT" (the generators' exact samples).
    Existing files of the same names are overwritten; others are left alone.
    """
    import numpy as np
    import soundfile as sf
    from tqdm.auto import tqdm

    from .. import dsp
    from . import procedural

    if subtype not in SUBTYPES:
        raise ValueError(f"subtype must be one of {', '.join(SUBTYPES)}, got {subtype!r}")
    sr = procedural._check_sr(sr)
    items = plan_corpus(per_class, seed, categories, duration_ambience)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    thumbs: Dict[str, List[tuple]] = {}
    started = time.perf_counter()
    for it in tqdm(items, desc="corpus", unit="file", disable=not progress):
        y = procedural.generate(it.category, seed=it.seed, duration=it.duration, sr=sr,
                                **it.controls)
        path = out / it.file
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), y, sr, subtype=subtype)
        cells = thumbs.setdefault(it.category, [])
        if len(cells) < SHEET_COLUMNS:
            cells.append((it, dsp.log_mel(y, sr=float(sr))))
    elapsed = time.perf_counter() - started

    labels = out / "labels.csv"
    _write_labels(labels, items)
    names = list(dict.fromkeys(it.category for it in items))
    meta = {
        "format": "foleykit.corpus/1",
        "seed": seed, "per_class": per_class, "sr": sr, "subtype": subtype,
        "duration_ambience": float(duration_ambience), "categories": names,
        "render_seconds": round(elapsed, 3),
        "schema": {n: {"ambience": procedural.get(n).ambience,
                       "default_duration": procedural.get(n).default_duration,
                       "doc": procedural.get(n).doc,
                       "controls": [{k: v for k, v in asdict(c).items()
                                     if v not in ((), None) or k == "choices"}
                                    for c in procedural.get(n).controls]}
                   for n in names},
        "items": [{"file": it.file, "seed": it.seed, "duration": it.duration} for it in items],
    }
    (out / "corpus.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    _contact_sheet(out / "contact_sheet.png", thumbs, sr,
                   f"FoleyKit procedural corpus, seed {seed}\n{len(items)} files, "
                   "log-mel 80 bands, 78 dB per thumbnail")
    return labels


def add_corpus_parser(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    """Registers ``foleykit corpus`` on ``subparsers``; the parsed namespace's ``run`` is
    :func:`run_corpus`."""
    p = subparsers.add_parser(
        "corpus", help="write the labelled procedural corpus (WAVs, labels.csv, contact sheet)",
        description="Renders the built-in procedural sound models into a labelled corpus: "
        "OUT/<category>/*.wav, labels.csv (file, category, one column per control), "
        "corpus.json (settings and seeds) and contact_sheet.png. Deterministic for a seed.")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--per-class", type=int, default=10, metavar="N",
                   help="sounds per category (default: 10)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="corpus seed (default: 0)")
    p.add_argument("--categories", default=None, metavar="A,B",
                   help="comma-separated categories (default: all; see "
                   "foleykit.data.procedural.CATEGORIES)")
    p.add_argument("--duration-ambience", type=float, default=DEFAULT_AMBIENCE_DURATION,
                   metavar="SEC", help="length of each ambience file in seconds "
                   f"(default: {DEFAULT_AMBIENCE_DURATION:g})")
    p.add_argument("--sr", type=int, default=48000, help="sample rate in Hz (default: 48000)")
    p.add_argument("--subtype", choices=SUBTYPES, default="PCM_16",
                   help="WAV sample format (default: PCM_16)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_corpus)
    return p


def run_corpus(args: argparse.Namespace) -> int:
    """Runs ``foleykit corpus`` from parsed arguments; returns the exit status (2 for bad
    arguments, with the reason on stderr)."""
    started = time.perf_counter()
    try:
        labels = write_corpus(args.out, args.per_class, args.seed, args.categories,
                              sr=args.sr, progress=not args.no_progress,
                              duration_ambience=args.duration_ambience, subtype=args.subtype)
    except ValueError as exc:
        print(f"foleykit corpus: error: {exc}", file=sys.stderr)
        return 2
    with open(labels, newline="", encoding="utf-8") as fh:
        count = sum(1 for _ in csv.DictReader(fh))
    print(f"wrote {count} files to {labels.parent} in {time.perf_counter() - started:.1f} s: "
          f"{labels.name}, corpus.json, contact_sheet.png")
    return 0


# The convention of foleykit.cli: every command module has register(subparsers).
register = add_corpus_parser

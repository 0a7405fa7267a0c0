"""``foleykit bake MODEL -n 50 -o DIR [--control name=value ...] [--vary name=lo:hi ...]``.

Renders seeded variations of one sound as WAV files for audio middleware (Wwise, FMOD, a
game's random container): ``{prefix}_{index:03d}_seed{seed}.wav`` for the seeds
``seed_start .. seed_start + n - 1``. ``--vary velocity=1:6`` draws a continuous control per
variation, uniformly, from an RNG seeded by the variation's seed (so a file's controls depend
only on its seed and the ``--vary`` text); ``--vary material=wood,metal`` cycles through the
choices by seed.

Every WAV and ``DIR/manifest.json`` are written atomically; the manifest is rewritten after
each file, so an interrupted bake keeps what it finished. For each file it records the name,
index, seed, controls, method, length, peak and the SHA-256 of the file's bytes; at the top
the model (path, content hash, family, sample rate) and the command line.

A re-run skips every file that exists and matches its manifest entry (same bytes, seed,
controls and settings), and renders the rest: missing files, and files that are corrupt or
were made otherwise. A manifest made for another model (its content hash differs) is refused
unless ``--force``, which starts a new manifest for this model.

Exit status: 0 done, 2 bad arguments, 1 a file could not be rendered or written, 130
interrupted (the manifest lists what was finished).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import render as R

__all__ = ["register", "run", "MANIFEST", "parse_vary", "variation_controls"]

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "foleykit-bake"
MANIFEST_VERSION = 1
MAX_FILES = 100_000
_PREFIX_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _count(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"-n is a whole number, got {text!r}") from None
    if not 1 <= v <= MAX_FILES:
        raise argparse.ArgumentTypeError(f"-n must be in 1..{MAX_FILES}, got {v}")
    return v


def register(subparsers: "argparse._SubParsersAction") -> None:
    p = subparsers.add_parser(
        "bake", help="render N seeded variations as WAV files plus a manifest (for middleware)",
        description="Render N seeded variations of a sound from an exported model, or a "
                    "default model (oneshots, ambiences), as WAV files named "
                    "PREFIX_INDEX_seedSEED.wav for middleware such as Wwise or FMOD, with "
                    "DIR/manifest.json listing each file's seed, controls, length, peak and "
                    "SHA-256. Re-running skips files already baked and redoes missing or "
                    "damaged ones. Exit status 2 for bad arguments.")
    R.add_model_arguments(p)
    p.add_argument("-n", type=_count, default=None, metavar="N",
                   help="how many variations (required unless --list-controls)")
    p.add_argument("-o", "--out", default=None, metavar="DIR",
                   help="output folder, created if missing (required unless --list-controls)")
    p.add_argument("--vary", action="append", default=[], metavar="NAME=LO:HI|A,B,...",
                   help="vary a control per variation (repeatable): LO:HI draws a continuous "
                        "control uniformly from a seeded RNG; A,B,... cycles through a list "
                        "of choices (or numbers) by seed")
    p.add_argument("--seed-start", type=R.parse_seed, default=0, metavar="S",
                   help="first seed (default 0): seeds S .. S+N-1")
    p.add_argument("--prefix", default=None, metavar="NAME",
                   help="file name prefix (default: the category set with --control, else "
                        "the model's name)")
    p.add_argument("--force", action="store_true",
                   help="bake into a folder whose manifest was made for another model (or is "
                        "unreadable): starts a new manifest for this model")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar or per-file lines, just the summary")
    p.set_defaults(run=run)


# -- variations -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Vary:
    """How one control varies: ``kind`` "range" (``lo``..``hi``) or "list" (``values``)."""

    name: str
    kind: str
    lo: float = 0.0
    hi: float = 0.0
    values: Tuple[Any, ...] = ()


def parse_vary(schema, specs: Sequence[str], fixed: Mapping[str, Any]) -> List[Vary]:
    """``["velocity=1:6", "material=wood,metal"]`` -> :class:`Vary` list, every bound and
    choice validated by the schema (UsageError naming the control)."""
    out: List[Vary] = []
    seen = set()
    for spec in specs:
        name, value = R.split_pair(spec, "--vary")
        if name in seen:
            raise R.UsageError(f"--vary {name} is given twice")
        if name in fixed:
            raise R.UsageError(f"control {name!r} is given with both --control and --vary")
        seen.add(name)
        if name not in schema.names:
            R.typed_controls(schema, {name: value})  # raises the schema's "unknown control"
        c = schema[name]
        if c.kind == "continuous" and ":" in value:
            lo_text, _, hi_text = value.partition(":")
            lo = R.typed_controls(schema, {name: lo_text})[name]
            hi = R.typed_controls(schema, {name: hi_text})[name]
            if lo > hi:
                raise R.UsageError(f"--vary {spec!r}: the range needs LO <= HI")
            out.append(Vary(name, "range", lo=lo, hi=hi))
            continue
        items = [v.strip() for v in value.split(",")]
        if not value.strip() or any(not v for v in items):
            how = "LO:HI or a list A,B,..." if c.kind == "continuous" else "a list A,B,..."
            raise R.UsageError(f"--vary {spec!r}: control {name!r} varies over {how}")
        values = tuple(R.typed_controls(schema, {name: v})[name] for v in items)
        out.append(Vary(name, "list", values=values))
    return out


def variation_controls(fixed: Mapping[str, Any], varies: Sequence[Vary],
                       seed: int) -> Dict[str, Any]:
    """The controls of the variation with ``seed``: ``fixed``, plus each varied control drawn
    (a range: uniform from an RNG seeded by (seed, name), rounded to 6 significant digits so
    the manifest holds the exact value used) or picked (a list: ``values[seed % len]``)."""
    import numpy as np

    out = dict(fixed)
    for v in varies:
        if v.kind == "range":
            rng = np.random.default_rng([int(seed), zlib.crc32(v.name.encode("utf-8"))])
            x = float(f"{v.lo + (v.hi - v.lo) * float(rng.random()):.6g}")
            out[v.name] = min(max(x, v.lo), v.hi)
        else:
            out[v.name] = v.values[int(seed) % len(v.values)]
    return out


def _default_prefix(fixed: Mapping[str, Any], model: Path) -> str:
    base = fixed.get("category") if isinstance(fixed.get("category"), str) else model.stem
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", str(base)).strip("._-")
    return base or "bake"


# -- manifest ---------------------------------------------------------------------------------

def _model_hash(rt, path: Path) -> str:
    h = rt.meta.get("content_hash")
    if isinstance(h, str) and h:
        return h
    return R.sha256(path.read_bytes())


def _load_manifest(path: Path, content_hash: str, force: bool) -> Dict[str, Dict[str, Any]]:
    """The entries (by file name) of an existing manifest for this model; {} when there is
    none. UsageError for one made for another model, or unreadable, unless ``force``."""
    if not path.exists():
        return {}
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(man, dict) or man.get("format") != MANIFEST_FORMAT:
            raise ValueError("not a foleykit bake manifest")
        files = man.get("files", [])
        if not isinstance(files, list) or not all(isinstance(f, dict) and "name" in f
                                                  for f in files):
            raise ValueError("its file list is damaged")
    except (OSError, ValueError) as e:
        if force:
            print(f"note: {path} is unreadable ({e}); --force: starting a new manifest",
                  file=sys.stderr)
            return {}
        raise R.UsageError(f"{path} is not a readable bake manifest ({e}); move it away, or "
                           "use --force to start a new one") from None
    theirs = man.get("content_hash")
    if theirs != content_hash:
        what = (f"model {man.get('model_name') or man.get('model')!r} "
                f"(content hash {str(theirs)[:12]}...)")
        if force:
            print(f"note: {path} was made for {what}; --force: starting a new manifest for "
                  f"this model ({len(files)} earlier entries dropped; their files are left)",
                  file=sys.stderr)
            return {}
        raise R.UsageError(f"{path} was made for another {what}, not this one (content hash "
                           f"{content_hash[:12]}...); bake into another folder, or use --force "
                           "to start a new manifest here")
    return {f["name"]: f for f in files}


def _command_line(args: argparse.Namespace, prefix: str) -> str:
    parts = ["foleykit", "bake", args.model, "-n", str(args.n), "-o", str(args.out)]
    for c in args.control:
        parts += ["--control", c]
    for v in args.vary:
        parts += ["--vary", v]
    parts += ["--seed-start", str(args.seed_start), "--prefix", prefix]
    if args.seconds is not None:
        parts += ["--seconds", f"{args.seconds:g}"]
    parts += ["--method", args.method, "--format", args.wav_format]
    if args.backend != "auto":
        parts += ["--backend", args.backend]
    return shlex.join(parts)


def _json_value(v: Any) -> Any:
    return float(v) if isinstance(v, float) else v


def _file_sha256(path: Path) -> Optional[str]:
    try:
        return R.sha256(path.read_bytes())
    except OSError:
        return None


# -- the command ----------------------------------------------------------------------------

def _fail(message: str, listing: Optional[str] = None, status: int = 2) -> int:
    print(f"foleykit bake: {message}", file=sys.stderr)
    if listing:
        print(listing, file=sys.stderr)
    return status


class _Progress:
    """A tqdm bar on a terminal, plain lines otherwise, nothing with --no-progress."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        self.lines = False
        self.total = total
        if not enabled:
            return
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc="bake", unit="file", file=sys.stderr,
                                dynamic_ncols=True)
                return
            except ImportError:
                pass
        self.lines = True

    def step(self, k: int, name: str, what: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name, refresh=False)
            self.bar.update(1)
        elif self.lines:
            print(f"[{k}/{self.total}] {name}: {what}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    """Runs ``foleykit bake``; returns the exit status."""
    try:
        path = R.resolve_model(args.model)
        rt = R.open_runtime(path, args.backend)
        if args.list_controls:
            print(R.format_controls(rt.schema, R.controls_title(rt, path.name)))
            return 0
        fixed = R.parse_controls(rt.schema, args.control)
        varies = parse_vary(rt.schema, args.vary, fixed)
        if args.n is None:
            raise R.UsageError("-n N (how many variations) is required")
        if args.out is None:
            raise R.UsageError("-o/--out DIR is required")
        if args.seed_start + args.n - 1 >= 2**64:
            raise R.UsageError(f"--seed-start {args.seed_start} with -n {args.n} runs past the "
                               "largest seed (2**64 - 1)")
        R.check_method(rt, args.method)
        prefix = args.prefix if args.prefix is not None else _default_prefix(fixed, path)
        if not _PREFIX_OK.match(prefix):
            raise R.UsageError(f"--prefix {prefix!r}: use letters, digits, '.', '_' and '-' "
                               "(starting with a letter or digit)")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise R.UsageError(f"-o {str(out)!r} exists and is not a folder")
        content_hash = _model_hash(rt, path)
        manifest_path = out / MANIFEST
        entries = _load_manifest(manifest_path, content_hash, args.force)
    except R.UsageError as e:
        return _fail(str(e), e.listing)
    if args.seconds is not None and not R.is_step_model(rt):
        print(f"note: --seconds applies to ambience (step) models; {path.name} is a one-shot "
              "model, rendered at the length it makes", file=sys.stderr)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return _fail(f"cannot create {str(out)!r}: {e}", status=1)

    step_model = R.is_step_model(rt)
    seconds = (args.seconds or R.DEFAULT_SECONDS) if step_model else None
    sr = int(rt.meta["sample_rate"])
    # Entries whose file is gone describe nothing any more.
    entries = {k: e for k, e in entries.items() if (out / k).is_file()}
    header = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "model": args.model,
        "model_path": str(path.resolve()),
        "model_name": path.name,
        "content_hash": content_hash,
        "model_family": rt.meta.get("model_family"),
        "mode": rt.meta.get("mode"),
        "sample_rate": sr,
        "command": _command_line(args, prefix),
    }
    last_written = [manifest_path.read_text(encoding="utf-8")
                    if manifest_path.is_file() else None]

    def write_manifest() -> None:
        man = dict(header, files=[entries[k] for k in sorted(entries)])
        text = json.dumps(man, indent=2) + "\n"
        if text != last_written[0]:
            R.atomic_write(manifest_path, text.encode("utf-8"))
            last_written[0] = text

    settings = {"method": args.method, "seconds": seconds, "format": args.wav_format}
    skipped = rendered = redone = 0
    progress = _Progress(args.n, not args.no_progress)
    try:
        for i in range(args.n):
            seed = args.seed_start + i
            controls = {k: _json_value(v)
                        for k, v in variation_controls(fixed, varies, seed).items()}
            name = f"{prefix}_{i:03d}_seed{seed}.wav"
            target = out / name
            old = entries.get(name)
            present = target.is_file()
            if (present and old is not None and old.get("seed") == seed
                    and old.get("controls") == controls
                    and all(old.get(k) == v for k, v in settings.items())
                    and _file_sha256(target) == old.get("sha256")):
                skipped += 1
                progress.step(i + 1, name, "skipped (already baked)")
                continue
            audio = R.render_audio(rt, controls, seed, args.method, seconds)
            for w in R.check_audio(audio, args.wav_format, name):
                print(f"warning: {w}", file=sys.stderr)
            data = R.wav_bytes(audio, sr, args.wav_format)
            R.atomic_write(target, data)
            peak = R.peak_dbfs(audio)
            entries[name] = {
                "name": name,
                "index": i,
                "seed": seed,
                "controls": controls,
                **settings,
                "samples": int(audio.size),
                "duration": round(audio.size / sr, 6),
                "peak_dbfs": round(peak, 2) if math.isfinite(peak) else None,
                "sha256": R.sha256(data),
            }
            write_manifest()
            rendered += 1
            redone += present
            progress.step(i + 1, name, ("re-rendered (did not match the manifest), "
                                        if present else "rendered, ")
                          + f"{audio.size / sr:.2f} s, peak {peak:.1f} dBFS")
        write_manifest()
    except KeyboardInterrupt:
        progress.close()
        print(f"foleykit bake: interrupted after {skipped + rendered} of {args.n} files; "
              f"{manifest_path} lists the finished ones; run the same command to go on",
              file=sys.stderr)
        return 130
    except (RuntimeError, OSError, ValueError) as e:
        progress.close()
        return _fail(f"{e} ({skipped + rendered} of {args.n} files done; the manifest lists "
                     "them)", status=1)
    progress.close()
    note = f" ({redone} of them re-rendered: present but not matching the manifest)" \
        if redone else ""
    print(f"{out}: {args.n} files, {skipped} skipped (already baked), {rendered} rendered"
          f"{note}; manifest {manifest_path}")
    return 0

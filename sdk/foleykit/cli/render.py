"""``foleykit render MODEL --control name=value ... --seed N -o out.wav [--png out.png]``.

Renders one sound from an exported model (a ``.onnx`` path, or the name of a shipped
default model: "oneshots", "ambiences") into a mono WAV at the model's sample rate, written
atomically (temporary file in the same folder, then ``os.replace``). One-shot models render
through :meth:`foleykit.Runtime.render`; step (ambience) models stream ``--seconds`` of sound
through :meth:`foleykit.Runtime.stream`. ``--png`` adds a log-mel picture of the result.

Exit status: 0 rendered, 2 bad arguments (unknown control, bad value, missing or damaged
model), 1 when the model produced unusable audio or the file could not be written.

The helpers here (model lookup, control parsing and listing, rendering, atomic WAV bytes)
are shared with :mod:`foleykit.cli.bake`; they import numpy, soundfile and the runtime only
when called, so ``foleykit --help`` stays fast.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = ["register", "run", "UsageError", "resolve_model", "open_runtime", "parse_seed",
           "parse_controls", "format_controls", "render_audio", "wav_bytes", "atomic_write",
           "peak_dbfs", "write_png", "METHODS", "FORMATS", "BACKEND_CHOICES"]

METHODS = ("pghi", "griffin_lim", "pghi_griffin_lim", "random")
# Step (ambience) models synthesise frame by frame: RTPGHI stands in for PGHI there.
STREAM_METHODS = {"pghi": "rtpghi", "random": "random"}
FORMATS = {"float32": "FLOAT", "pcm24": "PCM_24"}
BACKEND_CHOICES = ("auto", "native", "onnxruntime")
DEFAULT_SECONDS = 5.0
MAX_SECONDS = 3600.0


class UsageError(ValueError):
    """Bad input from the command line: printed, exit status 2. ``listing`` (the model's
    controls) is printed after the message when set."""

    def __init__(self, message: str, listing: Optional[str] = None) -> None:
        super().__init__(message)
        self.listing = listing


# -- argument types --------------------------------------------------------------------------

def parse_seed(text: str) -> int:
    """argparse type: an integer in [0, 2**64)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number, got {text!r}") from None
    if not 0 <= v < 2**64:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**64), got {v}")
    return v


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seconds must be a number, got {text!r}") from None
    if not (math.isfinite(v) and 0 < v <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(f"seconds must be in (0, {MAX_SECONDS:g}], got {text}")
    return v


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments ``render`` and ``bake`` share."""
    p.add_argument("model", metavar="MODEL",
                   help="an exported model (.onnx) or a default model: oneshots, ambiences")
    p.add_argument("--control", "-c", action="append", default=[], metavar="NAME=VALUE",
                   help="set a control (repeatable); a number for continuous controls, a "
                        "choice for categorical ones; unset controls take their defaults")
    p.add_argument("--seconds", type=_seconds, default=None, metavar="S",
                   help=f"ambience (step) models: seconds to render (default "
                        f"{DEFAULT_SECONDS:g}); one-shots are as long as the model makes them")
    p.add_argument("--method", choices=METHODS, default="pghi",
                   help="phase reconstruction (default pghi); ambience models stream with "
                        "rtpghi for pghi, or random")
    p.add_argument("--format", dest="wav_format", choices=tuple(FORMATS), default="float32",
                   help="WAV sample format (default float32)")
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="inference backend (default auto: whatever foleykit.Runtime picks)")
    p.add_argument("--list-controls", action="store_true",
                   help="print the model's controls (name, kind, choices or range, default) "
                        "and exit")


def register(subparsers: "argparse._SubParsersAction") -> None:
    p = subparsers.add_parser(
        "render", help="render one sound from a model to a WAV (and a spectrogram PNG)",
        description="Render one sound from an exported model, or a default model "
                    "(oneshots, ambiences), with the given controls and seed: the same "
                    "controls and seed give the same samples. Writes a mono WAV at the "
                    "model's sample rate (atomically) and prints its path, duration and peak. "
                    "Exit status 2 for bad arguments, with the model's controls listed.")
    add_model_arguments(p)
    p.add_argument("--seed", type=parse_seed, default=0, metavar="N",
                   help="the variation to render (default 0)")
    p.add_argument("-o", "--out", default=None, metavar="OUT.wav",
                   help="the WAV to write (required unless --list-controls)")
    p.add_argument("--png", default=None, metavar="OUT.png",
                   help="also write a log-mel spectrogram picture of the sound")
    p.set_defaults(run=run)


# -- model, controls ------------------------------------------------------------------------

def resolve_model(spec: str) -> Path:
    """A model path, or a default model's path for its name ("oneshots", "ambiences", or an
    alias). UsageError when it is neither."""
    p = Path(spec)
    if p.is_file():
        return p
    from ..models import default

    name = default.ALIASES.get(spec, spec)
    if name in default.KINDS and not p.suffix:
        try:
            return default.path(name)
        except FileNotFoundError as e:
            raise UsageError(str(e)) from None
    if p.exists():
        raise UsageError(f"model {spec!r} is not a file")
    raise UsageError(f"no model file {spec!r}, and it is not a default model name "
                     f"({', '.join(default.KINDS)})")


def open_runtime(path: Path, backend: str = "auto"):
    """``foleykit.Runtime(path)``; ``backend=`` is passed only when not "auto" (and refused
    when this Runtime takes no backend). Runtime warnings (e.g. a backend fallback) are
    printed as one-line notes on stderr. UsageError for a missing or damaged model."""
    from ..runtime import Runtime

    kwargs: Dict[str, Any] = {}
    if backend != "auto":
        if "backend" not in inspect.signature(Runtime).parameters:
            raise UsageError(f"--backend {backend}: this foleykit's Runtime has no backend "
                             "choice; leave --backend at auto")
        kwargs["backend"] = backend
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rt = Runtime(path, **kwargs)
        except (ValueError, OSError, ImportError, RuntimeError) as e:
            how = f" with backend {backend}" if kwargs else ""
            raise UsageError(f"cannot load model {str(path)!r}{how}: {e}") from None
    for w in caught:
        print(f"note: {w.message}", file=sys.stderr)
    return rt


def parse_controls(schema, pairs: Sequence[str], what: str = "--control") -> Dict[str, Any]:
    """``["name=value", ...]`` -> ``{name: value}``: a float for continuous controls, the text
    for categorical ones (the schema decides). Validated by the schema: UsageError with its
    message (naming the control) and the model's control listing."""
    out: Dict[str, Any] = {}
    for pair in pairs:
        name, value = split_pair(pair, what)
        if name in out:
            raise UsageError(f"control {name!r} is given twice")
        out[name] = value
    return typed_controls(schema, out)


def split_pair(pair: str, what: str) -> Tuple[str, str]:
    name, eq, value = pair.partition("=")
    name = name.strip()
    if not eq or not name:
        raise UsageError(f"{what} expects NAME=VALUE, got {pair!r}")
    return name, value.strip()


def typed_controls(schema, raw: Mapping[str, str]) -> Dict[str, Any]:
    """Text values -> typed values, validated by ``schema.encode`` (its ValueError text)."""
    out: Dict[str, Any] = {}
    for name, value in raw.items():
        if name not in schema.names:
            _schema_check(schema, {name: value})  # the schema's own "unknown control" text
        c = schema[name]
        if c.kind == "continuous":
            try:
                out[name] = float(value)
            except ValueError:
                raise UsageError(f"control {name!r} must be {c.allowed()}; got {value!r}",
                                 format_controls(schema)) from None
        else:
            out[name] = value
    _schema_check(schema, out)
    return out


def _schema_check(schema, values: Mapping[str, Any]) -> None:
    try:
        schema.encode(values)
    except ValueError as e:
        raise UsageError(str(e), format_controls(schema)) from None


def _allowed(c) -> str:
    if c.kind == "categorical":
        return ", ".join(c.choices)
    text = f"{c.low:g} .. {c.high:g}"
    if c.unit:
        text += f" {c.unit}"
    return text + (" (log)" if c.log else "")


def format_controls(schema, title: Optional[str] = None) -> str:
    """The model's controls as a table: name, kind, choices or range, default."""
    rows = [("name", "kind", "choices / range", "default")]
    for c in schema.controls:
        default = c.default if c.kind == "categorical" else f"{c.default:g}"
        rows.append((c.name, c.kind, _allowed(c), str(default)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [title] if title else []
    for r in rows:
        lines.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    if not schema.controls:
        lines.append("  (no controls)")
    return "\n".join(lines)


def controls_title(rt, model_name: str) -> str:
    m = rt.meta
    return (f"controls of {model_name} ({m.get('model_family', '?')}, {m.get('mode', '?')}, "
            f"{m.get('sample_rate', '?')} Hz):")


# -- rendering and files --------------------------------------------------------------------

def is_step_model(rt) -> bool:
    return rt.meta.get("mode") == "step"


def check_method(rt, method: str) -> None:
    if is_step_model(rt) and method not in STREAM_METHODS:
        raise UsageError(f"--method {method}: ambience (step) models stream frame by frame, "
                         "with --method pghi (as RTPGHI) or --method random")


def render_audio(rt, controls: Mapping[str, Any], seed: int, method: str = "pghi",
                 seconds: Optional[float] = None):
    """float32 mono samples: ``rt.render`` for a one-shot model; for a step model
    ``seconds`` (default 5) of ``rt.stream``, cut to exactly ``round(seconds * sr)``."""
    import numpy as np

    if not is_step_model(rt):
        return np.ascontiguousarray(rt.render(dict(controls), seed=seed, method=method),
                                    np.float32)
    sr = int(rt.meta["sample_rate"])
    total = int(round((DEFAULT_SECONDS if seconds is None else seconds) * sr))
    stream = rt.stream(dict(controls), seed=seed, block_frames=64,
                       method=STREAM_METHODS[method])
    blocks, have = [], 0
    while have < total:
        b = next(stream)
        blocks.append(b)
        have += b.size
    return np.ascontiguousarray(np.concatenate(blocks)[:total], np.float32)


def peak_dbfs(audio) -> float:
    import numpy as np

    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def wav_bytes(audio, sr: int, wav_format: str = "float32") -> bytes:
    """A mono WAV file's bytes (``wav_format`` "float32" or "pcm24")."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio, int(sr), subtype=FORMATS[wav_format], format="WAV")
    return _without_peak_chunk(buf.getvalue())


def _without_peak_chunk(wav: bytes) -> bytes:
    """libsndfile adds a PEAK chunk to float WAVs that holds the time of writing, so the same
    samples written a second apart gave different bytes (and bake's sha256 manifest a false
    mismatch). The chunk is optional: drop it, keep every other chunk as it is."""
    import struct

    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        return wav
    chunks, pos = [], 12
    while pos + 8 <= len(wav):
        cid, size = wav[pos:pos + 4], struct.unpack("<I", wav[pos + 4:pos + 8])[0]
        end = pos + 8 + size + (size & 1)  # chunks are padded to an even length
        if cid != b"PEAK":
            chunks.append(wav[pos:end])
        pos = end
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def atomic_write(path: Path, data: bytes) -> None:
    """Writes ``data`` to a temporary file in ``path``'s folder, then renames it over
    ``path``: a reader never sees half a file, an interrupted write leaves none."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if hasattr(os, "fchmod"):  # mkstemp makes it private (0600): use open()'s mode
                os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_audio(audio, wav_format: str, what: str) -> List[str]:
    """Raises RuntimeError for audio that must not be written (non-finite, empty); returns
    warnings (clipping in a PCM file)."""
    import numpy as np

    if audio.size == 0:
        raise RuntimeError(f"{what}: the model rendered no samples")
    if not np.isfinite(audio).all():
        raise RuntimeError(f"{what}: the model rendered non-finite samples (NaN or inf)")
    peak = float(np.max(np.abs(audio)))
    if wav_format != "float32" and peak > 1.0:
        return [f"{what}: peak {peak_dbfs(audio):+.1f} dBFS clips in a {wav_format} file; "
                "use --format float32 to keep it"]
    return []


def describe_controls(controls: Mapping[str, Any]) -> str:
    if not controls:
        return "default controls"
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in controls.items())


def write_png(path: Path, audio, meta: Mapping[str, Any], title: str) -> None:
    """A log-mel spectrogram picture of ``audio`` (the model's own log-mel settings, through
    :func:`foleykit.dsp.log_mel`), in dB, time in seconds, mel bands with their centre
    frequencies in Hz on the right. Written atomically."""
    import io
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .. import dsp

    sr, n_fft, hop = float(meta["sample_rate"]), int(meta["n_fft"]), int(meta["hop"])
    n_mels, fmin, fmax = int(meta["n_mels"]), float(meta["fmin"]), meta["fmax"]
    fmax = None if fmax is None else float(fmax)
    y = np.asarray(audio, np.float32)
    if y.size <= n_fft // 2:  # the centred STFT cannot reflect-pad a shorter clip
        y = np.pad(y, (0, n_fft // 2 + 1 - y.size))
    mel = dsp.log_mel(y, sr, n_fft, hop, n_mels, fmin, fmax, float(meta["log_floor"]))
    db = mel * (20.0 / math.log(10.0))  # natural-log magnitude -> dB
    top = float(db.max())
    centres = np.argmax(dsp.mel_filterbank(sr, n_fft, n_mels, fmin, fmax), axis=1) * sr / n_fft

    fig, ax = plt.subplots(figsize=(8, 4), dpi=100, layout="constrained")
    seconds = y.size / sr
    image = ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=top - 80.0,
                      vmax=top, extent=(0.0, seconds, -0.5, n_mels - 0.5),
                      interpolation="nearest")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ticks = np.unique(np.linspace(0, n_mels - 1, 6).round().astype(int))
    ax.set_yticks(ticks)
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(ticks)
    right.set_yticklabels([f"{centres[t]:.0f}" for t in ticks])
    right.set_ylabel("band centre (Hz)")
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=9)
    fig.colorbar(image, ax=ax, pad=0.02, label="dB")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write(path, buf.getvalue())


# -- the command ----------------------------------------------------------------------------

def _fail(message: str, listing: Optional[str] = None, status: int = 2) -> int:
    print(f"foleykit render: {message}", file=sys.stderr)
    if listing:
        print(listing, file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    """Runs ``foleykit render``; returns the exit status."""
    try:
        path = resolve_model(args.model)
        rt = open_runtime(path, args.backend)
        if args.list_controls:
            print(format_controls(rt.schema, controls_title(rt, path.name)))
            return 0
        controls = parse_controls(rt.schema, args.control)
        if args.out is None:
            raise UsageError("-o/--out OUT.wav is required")
        check_method(rt, args.method)
    except UsageError as e:
        return _fail(str(e), e.listing)
    if args.seconds is not None and not is_step_model(rt):
        print(f"note: --seconds applies to ambience (step) models; {path.name} is a one-shot "
              "model, rendered at the length it makes", file=sys.stderr)

    out = Path(args.out)
    png = Path(args.png) if args.png else None
    for target in (out, png):
        if target is not None and target.is_dir():
            return _fail(f"{str(target)!r} is a folder; give a file name")
    try:
        audio = render_audio(rt, controls, args.seed, args.method, args.seconds)
        for w in check_audio(audio, args.wav_format, out.name):
            print(f"warning: {w}", file=sys.stderr)
        sr = int(rt.meta["sample_rate"])
        for target in (out, png):
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, wav_bytes(audio, sr, args.wav_format))
        print(f"{out}: {audio.size / sr:.3f} s, {sr} Hz, peak {peak_dbfs(audio):.1f} dBFS")
        if png is not None:
            title = (f"{path.name} ({rt.meta.get('model_family', '?')}) | "
                     f"{describe_controls(controls)} | seed {args.seed}")
            write_png(png, audio, rt.meta, title)
            print(f"{png}: log-mel spectrogram")
    except (RuntimeError, OSError) as e:
        return _fail(str(e), status=1)
    except ValueError as e:  # e.g. a DSP or runtime refusal not caught above
        return _fail(str(e))
    return 0

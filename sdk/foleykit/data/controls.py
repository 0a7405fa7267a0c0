"""Controls: the knobs a model is conditioned on.

Two sources. ``labels.csv`` at the folder root gives the user's own controls per file; the
rest are derived from the audio itself (DESIGN.md, "Models"):

- ``intensity``: loudness in LUFS-like dB (K-weighted, gated mean square over the active
  frames, as ITU-R BS.1770 does, but with 21 ms frames instead of 400 ms blocks so that a
  50 ms footstep has a loudness; not a certified meter).
- ``brightness``: spectral centroid of the active frames in Hz, power-weighted (robust to a
  noise floor).
- ``duration``: trimmed length in seconds.

:class:`ControlSpec` maps raw values to 0..1 over a dataset (log scale for Hz and seconds, so a
knob at 0.5 is the geometric middle) and back.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

__all__ = ["DERIVED", "ControlSpec", "LabelRow", "Labels", "derive", "read_labels"]

# name -> (unit, log scale)
DERIVED: Dict[str, Tuple[str, bool]] = {
    "intensity": ("dB LUFS", False),
    "brightness": ("Hz", True),
    "duration": ("s", True),
}

_ABS_GATE_LUFS = -70.0
_REL_GATE_LU = -10.0


def derive(x: np.ndarray, sr: int) -> Dict[str, float]:
    """Derived controls of a mono clip ``(samples,)``; see the module docstring."""
    from .. import dsp

    n_fft, hop = 1024, 256
    if x.size <= n_fft // 2:
        x = np.pad(x, (0, n_fft // 2 + 1 - x.size))
    power = np.abs(dsp.stft(x, n_fft, hop)) ** 2  # (bins, frames)
    freqs = np.arange(power.shape[0]) * (sr / n_fft)

    # Parseval for a real frame: sum |X_k|^2 over the full spectrum = N * sum (w x)^2; the
    # one-sided spectrum counts every bin but DC and Nyquist twice. Dividing by mean(w^2) of the
    # periodic Hann (3/8) gives the mean square of the unwindowed frame.
    two_sided = np.full(power.shape[0], 2.0)
    two_sided[0] = two_sided[-1] = 1.0
    k_weight = _k_weighting_power(freqs, sr)
    ms = (two_sided * k_weight) @ power / (n_fft * n_fft * 0.375)
    lufs = -0.691 + 10.0 * np.log10(np.maximum(ms, 1e-30))

    gated = lufs > _ABS_GATE_LUFS
    if gated.any():
        rel = -0.691 + 10 * math.log10(float(ms[gated].mean())) + _REL_GATE_LU
        gated &= lufs > rel
    active = gated if gated.any() else np.ones_like(gated)
    intensity = -0.691 + 10 * math.log10(max(float(ms[active].mean()), 1e-30))

    # Power-weighted: a hiss floor 40 dB down moves it by a few Hz, where the usual
    # magnitude-weighted centroid would double for a low tone.
    spectrum = power[:, active].sum(axis=1)
    total = float(spectrum.sum())
    brightness = float(freqs @ spectrum) / total if total > 0 else 0.0
    return {"intensity": float(intensity), "brightness": brightness,
            "duration": float(x.size) / sr}


def _k_weighting_power(f: np.ndarray, sr: int) -> np.ndarray:
    """|H(f)|^2 of the BS.1770 K-weighting (high shelf + RLB high-pass), designed for ``sr``
    from the analogue prototypes (libebur128's formulas; at 48 kHz they give the standard's
    coefficients)."""
    def biquad_power(b, a):
        z = np.exp(-1j * 2 * np.pi * f / sr)
        h = (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
        return np.abs(h) ** 2

    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sr)
    vh = 10 ** (gain / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0,
               (vh - vb * k / q + k * k) / a0)
    shelf_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)

    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sr)
    a0 = 1 + k / q + k * k
    hp_b = (1.0, -2.0, 1.0)
    hp_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    return biquad_power(shelf_b, shelf_a) * biquad_power(hp_b, hp_a)


@dataclass(frozen=True)
class ControlSpec:
    """One control over a dataset: its range and how a raw value maps to a 0..1 knob."""

    name: str
    lo: float
    hi: float
    log: bool = False
    unit: str = ""
    source: str = "derived"  # "derived" or "labels"

    def normalize(self, value: float) -> float:
        """Raw value -> 0..1 (clamped); 0.5 when the dataset has a single value."""
        lo, hi, v = self.lo, self.hi, value
        if self.log:
            lo, hi, v = (math.log(max(t, 1e-12)) for t in (lo, hi, v))
        if not hi > lo:
            return 0.5
        return min(max((v - lo) / (hi - lo), 0.0), 1.0)

    def denormalize(self, knob: float) -> float:
        """0..1 -> raw value."""
        knob = min(max(float(knob), 0.0), 1.0)
        if self.log:
            lo, hi = math.log(max(self.lo, 1e-12)), math.log(max(self.hi, 1e-12))
            return math.exp(lo + knob * (hi - lo))
        return self.lo + knob * (self.hi - self.lo)

    @classmethod
    def fit(cls, name: str, values: Iterable[float], source: str) -> "ControlSpec":
        v = [float(t) for t in values]
        unit, log = DERIVED.get(name, ("", False)) if source == "derived" else ("", False)
        if log:
            v = [t for t in v if t > 0] or [1.0]
        return cls(name, min(v), max(v), log, unit, source)


@dataclass
class LabelRow:
    line: int
    category: Optional[str]
    values: Dict[str, float]


@dataclass
class Labels:
    """What ``labels.csv`` says. ``rows`` maps a posix path relative to the root to its row
    (category ``None`` when not given; only valid control values); ``problems`` are
    (file, reason)."""

    columns: List[str]
    rows: Dict[str, LabelRow]
    problems: List[Tuple[str, str]]


def read_labels(path, name: str = "labels.csv") -> Labels:
    """Parses ``labels.csv``: a ``file`` column (path relative to the folder, ``/`` or ``\\``),
    an optional ``category`` column, and numeric control columns. A control header may declare
    its range as ``velocity[0:10]``; values outside it are refused like non-numbers, NaN and
    infinities. A refused value is reported and left out; the file itself is kept. Comma,
    semicolon and tab delimiters are accepted, and an Excel BOM."""
    problems: List[Tuple[str, str]] = []
    rows: Dict[str, LabelRow] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        return Labels([], {}, [(name, f"{name}: cannot read ({err})")])

    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return Labels([], {}, [(name, f"{name}: empty")])
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(lines, dialect)
    header = [h.strip() for h in next(reader)]
    lowered = [h.lower() for h in header]
    if "file" not in lowered:
        return Labels([], {}, [(name, f"{name}: no 'file' column (header: {', '.join(header)})")])
    file_col = lowered.index("file")
    cat_col = lowered.index("category") if "category" in lowered else None

    controls: List[Tuple[int, str, Optional[Tuple[float, float]]]] = []
    for i, h in enumerate(header):
        if i in (file_col, cat_col) or not h:
            continue
        parsed = _parse_header(h)
        if parsed is None:
            problems.append((name, f"{name}: column {h!r} has a bad range (write name[lo:hi]); "
                                   "column ignored"))
            continue
        controls.append((i, *parsed))

    for line_no, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        where = f"{name} line {line_no}"
        raw = row[file_col].strip() if file_col < len(row) else ""
        rel = _normalize_path(raw)
        if rel is None:
            problems.append((name, f"{where}: bad file path {raw!r}; row ignored"))
            continue
        if rel in rows:
            problems.append((rel, f"{where}: file listed again; the first row is used"))
            continue
        cat = row[cat_col].strip() if cat_col is not None and cat_col < len(row) else ""
        values: Dict[str, float] = {}
        for col, cname, rng in controls:
            cell = row[col].strip() if col < len(row) else ""
            if not cell:
                continue  # not labelled: filled from the dataset, not an error
            reason = None
            try:
                v = float(cell)
            except ValueError:
                reason = "not a number"
            else:
                if not math.isfinite(v):
                    reason = "not finite"
                elif rng is not None and not rng[0] <= v <= rng[1]:
                    reason = f"outside {rng[0]:g}..{rng[1]:g}"
            if reason:
                problems.append((rel, f"value ignored: {where}: {cname} = {cell!r} is {reason}"))
            else:
                values[cname] = v
        rows[rel] = LabelRow(line_no, cat or None, values)
    return Labels([c[1] for c in controls], rows, problems)


def _parse_header(h: str) -> Optional[Tuple[str, Optional[Tuple[float, float]]]]:
    if "[" not in h:
        return h, None
    base, _, rest = h.partition("[")
    if not rest.endswith("]") or ":" not in rest:
        return None
    lo_s, _, hi_s = rest[:-1].partition(":")
    try:
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        return None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi) or not base.strip():
        return None
    return base.strip(), (lo, hi)


def _normalize_path(raw: str) -> Optional[str]:
    if not raw:
        return None
    p = PurePosixPath(raw.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts:
        return None
    parts = [s for s in p.parts if s not in ("", ".")]
    return "/".join(parts) if parts else None

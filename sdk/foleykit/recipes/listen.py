"""Listening by numbers: levels (RMS dBFS) and brightness (spectral centroid) of what an
exported model renders, next to the procedural sounds it was trained on.

For each category the main control is set low and high (and left at its default) and a few
seeds are drawn. Three numbers per setting, each the mean over the seeds:

- ``model``: the exported model through :class:`foleykit.runtime.Runtime`;
- ``procedural``: the procedural generator itself (the ground truth);
- ``resynth`` (one-shots): the procedural clip through log-mel and back with the runtime's
  phase reconstruction, i.e. the best the model could do given the feature and vocoder.

One-shots are measured over the model's clip window (``max_seconds``, the model's output
zero-padded to it); ambiences over 0.5-2 s of a stream (the first 0.5 s is the start from
silence that every stream begins with) and over 4-6 s (``model_late``).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

__all__ = ["ONE_SHOT_PROBES", "AMBIENCE_PROBES", "schema_name", "rms_db", "centroid_hz",
           "measure_one_shots", "measure_ambiences", "stream_seconds", "summary",
           "format_report"]

# category -> (control, low value, high value, what it should change: "level" | "centroid",
# sign: +1 if the high value should give more of it)
ONE_SHOT_PROBES: Dict[str, Tuple[str, float, float, str, int]] = {
    "impact": ("velocity", 0.5, 9.0, "level", +1),
    "footstep": ("force", 0.1, 0.9, "level", +1),
    "character_action": ("intensity", 0.1, 0.9, "level", +1),
    "ui": ("pitch", -10.0, 10.0, "centroid", +1),
    "whoosh": ("speed", 2.0, 35.0, "level", +1),
    "explosion": ("distance", 8.0, 1000.0, "level", -1),
    "glass_break": ("force", 0.1, 0.9, "level", +1),
    "door": ("speed", 0.1, 0.9, "level", +1),
}
AMBIENCE_PROBES: Dict[str, Tuple[str, float, float, str, int]] = {
    "rain": ("intensity", 0.1, 0.9, "level", +1),
    "wind": ("strength", 0.1, 0.9, "level", +1),
    "fire": ("intensity", 0.1, 0.9, "level", +1),
    "water_stream": ("flow", 0.1, 0.9, "level", +1),
    "city_street": ("traffic_density", 0.1, 0.9, "level", +1),
}

AMBIENCE_SECONDS = 2.0
AMBIENCE_SKIP = 0.5
LATE_SPAN = (4.0, 6.0)


def schema_name(schema, category: str, control: str) -> str:
    """The name a category's control has in a model's schema (``size`` may be
    ``impact.size`` where categories define it differently)."""
    return control if control in schema.names else f"{category}.{control}"


def rms_db(x: np.ndarray) -> float:
    x = np.asarray(x, np.float64)
    return 20.0 * math.log10(math.sqrt(float(np.mean(x * x))) + 1e-12) if x.size else -240.0


def centroid_hz(x: np.ndarray, sr: int = 48000) -> float:
    x = np.asarray(x, np.float64)
    mag = np.abs(np.fft.rfft(x))
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    return float((mag * f).sum() / max(mag.sum(), 1e-20))


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    out[: min(n, len(x))] = x[:n]
    return out


def _settings(default: float, lo: float, hi: float) -> List[Tuple[str, float]]:
    return [("low", lo), ("default", default), ("high", hi)]


def measure_one_shots(model_path, seeds: int = 8, resynth: bool = True,
                      categories: Optional[List[str]] = None) -> Dict[str, Any]:
    """``{category: {"control", "metric", "sign", "settings": {name: {"value", "model",
    "procedural", "resynth"}}}}`` with each number a mean of ``metric`` over ``seeds``."""
    from .. import dsp
    from ..data import procedural as P
    from ..runtime import Runtime

    rt = Runtime(model_path)
    m = rt.meta
    sr = int(m["sample_rate"])
    n = int(m["max_frames"]) * int(m["hop"])
    feat = dict(sr=float(sr), n_fft=m["n_fft"], hop=m["hop"], n_mels=m["n_mels"],
                fmin=m["fmin"], fmax=m["fmax"])
    out: Dict[str, Any] = {}
    for cat in categories or list(ONE_SHOT_PROBES):
        ctrl, lo, hi, metric, sign = ONE_SHOT_PROBES[cat]
        name = schema_name(rt.schema, cat, ctrl)
        default = float(P.CATEGORIES[cat].control(ctrl).default)
        f = rms_db if metric == "level" else (lambda x: centroid_hz(x, sr))
        rows = {}
        for label, v in _settings(default, lo, hi):
            vals = {"model": [], "procedural": [], "resynth": []}
            for s in range(seeds):
                y = _fit(rt.render({"category": cat, name: v}, seed=s), n)
                vals["model"].append(f(y))
                x = P.generate(cat, seed=s, duration=n / sr, sr=sr, **{ctrl: v})
                vals["procedural"].append(f(x))
                if resynth:
                    mel = dsp.log_mel(x, sr, m["n_fft"], m["hop"], m["n_mels"], m["fmin"],
                                      m["fmax"], m["log_floor"])
                    r = dsp.synthesize(mel, kind="log_mel", method="pghi", seed=s, length=n,
                                       **feat)
                    vals["resynth"].append(f(r))
            rows[label] = {"value": v, **{k: float(np.mean(a)) for k, a in vals.items() if a}}
        out[cat] = {"control": name, "metric": metric, "sign": sign, "settings": rows}
    return out


def measure_ambiences(model_path, seeds: int = 3, late: bool = True,
                      categories: Optional[List[str]] = None) -> Dict[str, Any]:
    """As :func:`measure_one_shots` for a streaming model: level over 0.5-2 s of a stream
    from silence (``model``) and, with ``late``, over 4-6 s (``model_late``: does it hold its
    level and its control?), next to the procedural ambience over 0.5-2 s."""
    from ..data import procedural as P
    from ..runtime import Runtime

    rt = Runtime(model_path)
    sr = int(rt.meta["sample_rate"])
    skip, end = int(AMBIENCE_SKIP * sr), int(AMBIENCE_SECONDS * sr)
    seconds = LATE_SPAN[1] if late else AMBIENCE_SECONDS
    l0, l1 = int(LATE_SPAN[0] * sr), int(LATE_SPAN[1] * sr)
    out: Dict[str, Any] = {}
    for cat in categories or list(AMBIENCE_PROBES):
        ctrl, lo, hi, metric, sign = AMBIENCE_PROBES[cat]
        name = schema_name(rt.schema, cat, ctrl)
        default = float(P.CATEGORIES[cat].control(ctrl).default)
        rows = {}
        for label, v in _settings(default, lo, hi):
            vals: Dict[str, List[float]] = {"model": [], "procedural": []}
            if late:
                vals["model_late"] = []
            for s in range(seeds):
                y = stream_seconds(rt, {"category": cat, name: v}, s, seconds)
                vals["model"].append(rms_db(y[skip:end]))
                if late:
                    vals["model_late"].append(rms_db(y[l0:l1]))
                x = P.generate(cat, seed=s, duration=AMBIENCE_SECONDS, sr=sr, **{ctrl: v})
                vals["procedural"].append(rms_db(x[skip:end]))
            rows[label] = {"value": v, **{k: float(np.mean(a)) for k, a in vals.items()}}
        out[cat] = {"control": name, "metric": metric, "sign": sign, "settings": rows}
    return out


def stream_seconds(rt, controls: Mapping[str, Any], seed: int, seconds: float,
                   block_frames: int = 16) -> np.ndarray:
    """The first ``seconds`` of ``rt.stream(controls, seed)`` as one array."""
    need = int(round(seconds * int(rt.meta["sample_rate"])))
    st = rt.stream(controls, seed=seed, block_frames=block_frames)
    parts, got = [], 0
    while got < need:
        b = next(st)
        parts.append(b)
        got += len(b)
    return np.concatenate(parts)[:need]


def summary(res: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Per category: the high-minus-low effect of the main control in the model and in the
    procedural sounds, whether the model ``follows`` it (same direction, at least a third of
    the size), and the mean absolute difference from the procedural level (dB, level
    controls) or centroid (Hz)."""
    out: Dict[str, Dict[str, Any]] = {}
    for cat, c in res.items():
        s = c["settings"]
        dm = s["high"]["model"] - s["low"]["model"]
        dp = s["high"]["procedural"] - s["low"]["procedural"]
        row = {"control": c["control"], "effect_model": round(dm, 2),
               "effect_procedural": round(dp, 2),
               "follows": bool(dm * dp > 0 and abs(dm) >= abs(dp) / 3),
               "mean_abs_error": round(float(np.mean([abs(r["model"] - r["procedural"])
                                                      for r in s.values()])), 2)}
        if all("model_late" in r for r in s.values()):
            dl = s["high"]["model_late"] - s["low"]["model_late"]
            row["effect_model_late"] = round(dl, 2)
            row["follows_late"] = bool(dl * dp > 0 and abs(dl) >= abs(dp) / 3)
            row["mean_abs_error_late"] = round(float(np.mean(
                [abs(r["model_late"] - r["procedural"]) for r in s.values()])), 2)
        out[cat] = row
    return out


def format_report(res: Mapping[str, Any], title: str) -> str:
    """A plain-text table of a measure_* result."""
    lines = [title]
    has_resynth = any("resynth" in r for c in res.values() for r in c["settings"].values())
    has_late = any("model_late" in r for c in res.values() for r in c["settings"].values())
    head = f"{'category':<17}{'control':<20}{'setting':<9}{'value':>8}{'model':>9}" \
           f"{'procedural':>12}" + (f"{'resynth':>10}" if has_resynth else "") + \
           (f"{'model 4-6s':>12}" if has_late else "") + "  unit"
    lines.append(head)
    for cat, c in res.items():
        unit = "dBFS" if c["metric"] == "level" else "Hz (centroid)"
        for label, r in c["settings"].items():
            row = (f"{cat:<17}{c['control']:<20}{label:<9}{r['value']:>8.3g}{r['model']:>9.1f}"
                   f"{r['procedural']:>12.1f}")
            if has_resynth:
                row += f"{r.get('resynth', float('nan')):>10.1f}"
            if has_late:
                row += f"{r.get('model_late', float('nan')):>12.1f}"
            lines.append(row + "  " + unit)
        s = c["settings"]
        dm = s["high"]["model"] - s["low"]["model"]
        dp = s["high"]["procedural"] - s["low"]["procedural"]
        tail = f"{'':<17}{'high - low':<29}{'':>8}{dm:>+9.1f}{dp:>+12.1f}"
        if has_resynth:
            tail += f"{s['high']['resynth'] - s['low']['resynth']:>+10.1f}"
        if has_late:
            tail += f"{s['high']['model_late'] - s['low']['model_late']:>+12.1f}"
        lines.append(tail)
    return "\n".join(lines)

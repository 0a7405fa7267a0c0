"""Scenes: a timeline of game events and control automation, rendered offline through the real
engine (:class:`foleykit.Engine`) block by block, exactly as a game drives it.

A scene is YAML (or JSON)::

    duration: 30            # seconds
    block: 256              # frames per render call (the host's audio block)
    sample_rate: 48000
    channels: 2
    models:                 # name -> a default model name or a path to a .fkm / .onnx
      fx: oneshots
      amb: ambiences
    events:
      - {at: 0.0, start: rain, model: amb, controls: {category: rain, intensity: 0.2}, gain: 0.5}
      - {at: 1.0, trigger: fx, controls: {category: footstep, surface: gravel}, seed: 3, pan: -0.3}
      - {at: 9.0, set: rain, controls: {intensity: 0.9}}
      - {at: 28.0, stop: rain, fade_ms: 1500}
    automation:             # linear ramps, applied at every block while they run
      - {voice: rain, control: intensity, from: 0.2, to: 0.95, start: 2.0, end: 20.0}

``start`` names an ambience voice that later events (``set``, ``stop``) and automation refer
to; ``trigger`` plays a one-shot of that model. Each event takes effect at the first block
that starts at or after ``at``. Offline, the renderer waits for the engine's worker before
each block (:meth:`Engine.sync`: new one-shots ready, ambiences streamed ahead), so the file
does not depend on the speed of the machine; a game gets a one-shot a block later when its
worker is slower.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

import numpy as np

__all__ = ["SceneError", "load_scene", "render_scene"]


class SceneError(ValueError):
    """A scene file that cannot be rendered; the message names the entry."""


_EVENT_KINDS = ("trigger", "start", "set", "stop")


def load_scene(source: Union[str, Path, Mapping[str, Any]]) -> Dict[str, Any]:
    """A validated scene from a YAML/JSON file or a mapping (defaults filled in)."""
    if isinstance(source, Mapping):
        raw = dict(source)
        where = "scene"
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise SceneError(f"scene file {where!r} does not exist")
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix.lower() == ".json":
                raw = json.loads(text)
            else:
                import yaml

                raw = yaml.safe_load(text)
        except Exception as e:
            raise SceneError(f"{where}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}:"
                             f" {e}") from None
    if not isinstance(raw, Mapping):
        raise SceneError(f"{where}: a scene is a mapping with models and events")
    s: Dict[str, Any] = {
        "duration": _number(raw.get("duration", 10.0), "duration", 0.01, 3600.0),
        "block": int(_number(raw.get("block", 256), "block", 1, 8192)),
        "sample_rate": int(_number(raw.get("sample_rate", 48000), "sample_rate", 8000, 384000)),
        "channels": int(_number(raw.get("channels", 2), "channels", 1, 2)),
        "max_voices": int(_number(raw.get("max_voices", 32), "max_voices", 1, 4096)),
    }
    models = raw.get("models")
    if not isinstance(models, Mapping) or not models:
        raise SceneError(f"{where}: 'models' must map names to default models or files")
    s["models"] = {str(k): str(v) for k, v in models.items()}
    events = raw.get("events", [])
    if not isinstance(events, list):
        raise SceneError(f"{where}: 'events' must be a list")
    out_events = []
    started = set()
    for i, e in enumerate(events):
        what = f"events[{i}]"
        if not isinstance(e, Mapping):
            raise SceneError(f"{what} must be a mapping")
        kinds = [k for k in _EVENT_KINDS if k in e]
        if len(kinds) != 1:
            raise SceneError(f"{what} needs exactly one of {', '.join(_EVENT_KINDS)}")
        kind = kinds[0]
        ev = {"kind": kind, "at": _number(e.get("at", 0.0), f"{what}.at", 0.0, s["duration"]),
              "index": i}
        if kind == "trigger":
            ev["model"] = _model_ref(e["trigger"], s, what)
        elif kind == "start":
            ev["name"] = str(e["start"])
            ev["model"] = _model_ref(e.get("model"), s, what)
            started.add(ev["name"])
        else:
            ev["name"] = str(e[kind])
            if ev["name"] not in started:
                raise SceneError(f"{what} refers to voice {ev['name']!r}, which no earlier "
                                 "'start' event names")
        if kind in ("trigger", "start", "set"):
            c = e.get("controls", {})
            if not isinstance(c, Mapping):
                raise SceneError(f"{what}.controls must be a mapping of control names")
            ev["controls"] = dict(c)
        if kind in ("trigger", "start"):
            ev["seed"] = int(e.get("seed", i))
            ev["gain"] = _number(e.get("gain", 1.0), f"{what}.gain", 0.0, 16.0)
            ev["pan"] = _number(e.get("pan", 0.0), f"{what}.pan", -1.0, 1.0)
            ev["quality"] = str(e.get("quality", "auto"))
            ev["label"] = str(e.get("label", ev.get("name") or
                                    ev["controls"].get("category", ev["model"])))
        if kind == "stop":
            ev["fade_ms"] = _number(e.get("fade_ms", 50.0), f"{what}.fade_ms", 0.0, 60000.0)
        out_events.append(ev)
    s["events"] = sorted(out_events, key=lambda ev: (ev["at"], ev["index"]))
    autos = raw.get("automation", [])
    if not isinstance(autos, list):
        raise SceneError(f"{where}: 'automation' must be a list")
    s["automation"] = []
    for i, a in enumerate(autos):
        what = f"automation[{i}]"
        if not isinstance(a, Mapping) or any(k not in a for k in ("voice", "control", "from",
                                                                  "to", "start", "end")):
            raise SceneError(f"{what} needs voice, control, from, to, start and end")
        if str(a["voice"]) not in started:
            raise SceneError(f"{what} refers to voice {a['voice']!r}, which no 'start' names")
        start = _number(a["start"], f"{what}.start", 0.0, s["duration"])
        end = _number(a["end"], f"{what}.end", start, s["duration"])
        s["automation"].append({"voice": str(a["voice"]), "control": str(a["control"]),
                                "from": _number(a["from"], f"{what}.from", -1e9, 1e9),
                                "to": _number(a["to"], f"{what}.to", -1e9, 1e9),
                                "start": start, "end": end})
    return s


def _number(v: Any, what: str, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
            or not lo <= v <= hi:
        raise SceneError(f"{what} must be a number in [{lo:g}, {hi:g}], got {v!r}")
    return float(v)


def _model_ref(name: Any, s: Mapping[str, Any], what: str) -> str:
    if name is None or str(name) not in s["models"]:
        raise SceneError(f"{what}: model {name!r} is not one of the scene's models "
                         f"({', '.join(s['models'])})")
    return str(name)


def render_scene(scene: Union[str, Path, Mapping[str, Any]], progress: Optional[Callable[[float], None]] = None,
                 ) -> Dict[str, Any]:
    """Renders a scene through the engine. Returns ``audio`` ``(frames, channels)`` float32,
    ``sounds`` (one entry per trigger/start: label, model, controls, seed, time, voice) and
    ``engine`` figures: real-time factor of the render loop, per-block render time (median
    and max, microseconds), trigger-to-ready latency (from ``trigger``/``start`` until the
    worker handed the voice to the audio thread, as the engine measures it; per block with
    new voices, their mean; milliseconds), the largest number of voices playing, stats."""
    from .engine import Engine

    s = load_scene(scene)
    sr, block, ch = s["sample_rate"], s["block"], s["channels"]
    total = int(round(s["duration"] * sr))
    eng = Engine(sample_rate=sr, channels=ch, max_block_frames=block, max_voices=s["max_voices"])
    try:
        ids = {name: eng.add_model(spec) for name, spec in s["models"].items()}
        voices: Dict[str, int] = {}
        sounds: List[Dict[str, Any]] = []
        audio = np.zeros((total, ch), np.float32)
        events = list(s["events"])
        ev_i = 0
        block_us: List[float] = []
        ready_ms: List[float] = []
        peak_voices = 0
        t_start = time.perf_counter()
        for pos in range(0, total, block):
            t = pos / sr
            pending = 0
            ready_ns0 = eng.stats["ready_latency_ns"]
            while ev_i < len(events) and events[ev_i]["at"] <= t + 1e-9:
                ev = events[ev_i]
                ev_i += 1
                if ev["kind"] == "trigger":
                    v = eng.trigger(ids[ev["model"]], ev["controls"], ev["seed"], ev["gain"],
                                    ev["pan"], ev["quality"])
                    pending += 1
                elif ev["kind"] == "start":
                    v = eng.start(ids[ev["model"]], ev["controls"], ev["seed"], ev["gain"],
                                  ev["pan"], ev["quality"])
                    voices[ev["name"]] = v
                    pending += 1
                elif ev["kind"] == "set":
                    eng.set_controls(voices[ev["name"]], ev["controls"])
                    continue
                else:
                    eng.stop(voices[ev["name"]], ev["fade_ms"])
                    continue
                sounds.append({"label": ev["label"], "model": ev["model"], "kind": ev["kind"],
                               "controls": ev["controls"], "seed": ev["seed"], "time_s": t,
                               "voice": v})
            for a in s["automation"]:
                if a["start"] <= t <= a["end"] + block / sr and a["voice"] in voices:
                    x = 1.0 if a["end"] <= a["start"] else min(1.0, (t - a["start"]) /
                                                              (a["end"] - a["start"]))
                    eng.set_controls(voices[a["voice"]],
                                     {a["control"]: a["from"] + x * (a["to"] - a["from"])})
            # Offline the render loop outruns real time; waiting for the worker before every
            # block (new one-shots ready, every ambience streamed ahead) paces it like a game.
            if not eng.sync(10.0):
                raise RuntimeError("the engine's worker did not finish within 10 s")
            if pending:
                ready_ms.append((eng.stats["ready_latency_ns"] - ready_ns0) / pending / 1e6)
            n = min(block, total - pos)
            t0 = time.perf_counter()
            audio[pos:pos + n] = eng.render(n)
            block_us.append((time.perf_counter() - t0) * 1e6)
            peak_voices = max(peak_voices, int(eng.stats.get("voices_playing", 0)))
            if progress:
                progress((pos + n) / total)
        wall = time.perf_counter() - t_start
        stats = dict(eng.stats)
        events_seen = eng.poll_events()
    finally:
        eng.close()
    return {
        "audio": audio, "sample_rate": sr, "channels": ch, "sounds": sounds,
        "engine": {"block": block, "render_loop_rtf": s["duration"] / wall if wall > 0 else None,
                   "block_render_us_median": float(np.median(block_us)) if block_us else 0.0,
                   "block_render_us_max": float(np.max(block_us)) if block_us else 0.0,
                   "block_budget_us": block / sr * 1e6,
                   "trigger_ready_ms_median": float(np.median(ready_ms)) if ready_ms else 0.0,
                   "trigger_ready_ms_max": float(np.max(ready_ms)) if ready_ms else 0.0,
                   "peak_voices": peak_voices, "stats": stats,
                   "events": len(events_seen)},
        "scene": {k: v for k, v in s.items() if k != "events"} | {"n_events": len(s["events"])},
    }

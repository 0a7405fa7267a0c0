"""``foleykit demo``: the default models play a ~30 s scene through the engine (city street,
footsteps changing surface, impacts of several materials and velocities, UI clicks, a whoosh,
wind gusts, rain growing heavier), and the demo writes what a person wants to hear and see:

- ``scene.wav``: the mix (stereo, 48 kHz, float);
- ``scene.png``: its spectrogram with every event marked;
- ``sounds/NN_label.wav``: each sound alone (one-shots as the engine plays them; ambiences,
  a few seconds with their starting controls);
- ``report.html``: audio players for the scene and each sound, the event list, the picture,
  and the engine's measured figures (trigger-to-ready latency, real-time factor, block render
  time against the block's budget, voices); ``report.json``: the same numbers.
"""
from __future__ import annotations

import html
import json
import os
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

import numpy as np

__all__ = ["run", "DEMO_SCENE"]

DEMO_SCENE = "demo.yaml"


def _scene_path() -> Path:
    return Path(str(resources.files("foleykit") / "scenes" / DEMO_SCENE))


def _write_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    import soundfile as sf

    tmp = path.with_name(path.name + ".tmp")
    sf.write(str(tmp), audio, sr, subtype="FLOAT", format="WAV")
    os.replace(tmp, path)


def _picture(path: Path, audio: np.ndarray, sr: int, sounds: List[Dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import dsp

    mono = np.ascontiguousarray(audio.mean(axis=1), np.float32)
    lm = dsp.log_mel(mono)
    fig, ax = plt.subplots(figsize=(14, 4.5), dpi=110)
    dur = len(mono) / sr
    ax.imshow(lm, origin="lower", aspect="auto", extent=(0, dur, 0, lm.shape[0]),
              cmap="magma", vmin=np.log(1e-5), vmax=max(float(lm.max()), np.log(1e-5) + 1))
    for s in sounds:
        ax.axvline(s["time_s"], color="white", lw=0.6, alpha=0.6)
        ax.text(s["time_s"], lm.shape[0] - 1, s["label"], rotation=90, va="top", ha="right",
                fontsize=6, color="white")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title("foleykit demo: the scene through the engine (log-mel of the mix)")
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


def _solo(sound: Dict[str, Any], models: Dict[str, str], seconds: float = 4.0) -> np.ndarray:
    """One sound alone, through the engine, as the scene played it."""
    from .engine import Engine

    with Engine(channels=1, max_block_frames=256) as eng:
        mid = eng.add_model(models[sound["model"]])
        if sound["kind"] == "trigger":
            eng.trigger(mid, sound["controls"], sound["seed"])
        else:
            eng.start(mid, sound["controls"], sound["seed"])
        out = []
        n = int(seconds * eng.sample_rate)
        for _ in range(0, n, 256):
            eng.sync(10.0)
            out.append(eng.render(256)[:, 0])
            if sound["kind"] == "trigger" and eng.stats.get("voices_playing", 1) == 0:
                break
        return np.concatenate(out)


def _report_html(r: Dict[str, Any], files: Dict[str, Any]) -> str:
    e = r["engine"]
    st = e["stats"]
    rows = "\n".join(
        f"<tr><td>{s['time_s']:.2f} s</td><td>{html.escape(s['label'])}</td>"
        f"<td>{html.escape(s['model'])} ({s['kind']})</td>"
        f"<td><code>{html.escape(json.dumps(s['controls']))}</code></td><td>{s['seed']}</td>"
        f"<td><audio controls preload='none' src='{html.escape(files['sounds'][i])}'></audio>"
        "</td></tr>" for i, s in enumerate(r["sounds"]))
    figures = [
        ("trigger to ready (worker: inference + phase reconstruction of the first part), median / max",
         f"{e['trigger_ready_ms_median']:.2f} ms / {e['trigger_ready_ms_max']:.2f} ms"),
        ("render per block of %d frames (audio thread), median / max" % e["block"],
         f"{e['block_render_us_median']:.1f} µs / {e['block_render_us_max']:.1f} µs "
         f"(budget {e['block_budget_us']:.0f} µs)"),
        ("real-time factor of the whole offline render (worker included)",
         f"{e['render_loop_rtf']:.1f}x"),
        ("voices at once (peak)", str(e["peak_voices"])),
        ("voices started / ended / stolen",
         f"{st.get('voices_started')} / {st.get('voices_ended')} / {st.get('voices_stolen')}"),
        ("underruns / overloads", f"{st.get('underruns')} / {st.get('overloads')}"),
        ("one-shots rendered / ambience frames streamed",
         f"{st.get('oneshots_rendered')} / {st.get('ambience_frames')}"),
        ("worker busy", f"{st.get('worker_busy_ns', 0) / 1e9:.2f} s"),
    ]
    fig_rows = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                         for k, v in figures)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FoleyKit demo</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:middle}}code{{font-size:85%}}img{{max-width:100%}}</style>
</head><body>
<h1>FoleyKit demo</h1>
<p>{html.escape(r['scene_text'])}</p>
<h2>The scene</h2>
<p><audio controls src="{html.escape(files['scene'])}"></audio>
({r['duration']:.1f} s, {r['sample_rate']} Hz, {r['channels']} channels,
rendered through <code>foleykit.Engine</code> block by block)</p>
<p><img src="{html.escape(files['png'])}" alt="spectrogram of the scene"></p>
<h2>The engine's figures</h2>
<table>{fig_rows}</table>
<p>Measured on this machine during this run ({html.escape(r['machine'])}); the render loop waits
for the worker before each block, as a real-time host would have to.</p>
<h2>Each sound</h2>
<table><tr><th>time</th><th>sound</th><th>model</th><th>controls</th><th>seed</th>
<th>alone</th></tr>
{rows}
</table>
</body></html>
"""


def run(out_dir: Union[str, Path] = "demo_out", scene: Optional[Union[str, Path]] = None,
        log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Renders the demo scene (or ``scene``) into ``out_dir``; returns the report dict."""
    import platform

    from .scene import load_scene, render_scene

    out = Path(out_dir)
    (out / "sounds").mkdir(parents=True, exist_ok=True)
    scene_path = Path(scene) if scene else _scene_path()
    s = load_scene(scene_path)
    log(f"[demo] rendering {scene_path.name}: {s['duration']:g} s, "
        f"{len(s['events'])} events, through the engine ...")
    t0 = time.perf_counter()
    last = [0.0]

    def progress(x: float) -> None:
        if x - last[0] >= 0.25 or x >= 1.0:
            last[0] = x
            log(f"[demo]   {x * 100:.0f}%")

    r = render_scene(scene_path, progress=progress)
    log(f"[demo] scene rendered in {time.perf_counter() - t0:.1f} s")
    sr = r["sample_rate"]
    _write_wav(out / "scene.wav", r["audio"], sr)
    _picture(out / "scene.png", r["audio"], sr, r["sounds"])
    files = {"scene": "scene.wav", "png": "scene.png", "sounds": []}
    log(f"[demo] each sound alone ({len(r['sounds'])}) ...")
    for i, snd in enumerate(r["sounds"]):
        name = f"sounds/{i:02d}_{snd['label'].replace(' ', '_').replace('/', '_')}.wav"
        _write_wav(out / name, _solo(snd, s["models"]), sr)
        files["sounds"].append(name)
    cpu = platform.processor() or platform.machine()
    report = {"duration": s["duration"], "sample_rate": sr, "channels": r["channels"],
              "scene_file": str(scene_path), "machine": f"{cpu}, {os.cpu_count()} cores",
              "scene_text": "Default models (one-shot VAE, ambience Transformer) answering the "
                            "events of a short walk: city street, UI, footsteps changing "
                            "surface, impacts of several materials and velocities, a whoosh, "
                            "wind gusts, a door, rain growing heavier.",
              "engine": r["engine"], "sounds": r["sounds"], "files": files,
              "peak": float(np.abs(r["audio"]).max())}
    (out / "report.html").write_text(_report_html(report, files), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    log(f"[demo] wrote {out / 'scene.wav'}, {out / 'scene.png'}, {out / 'report.html'}, "
        f"{out / 'report.json'} and {len(files['sounds'])} sounds in {out / 'sounds'}")
    return report

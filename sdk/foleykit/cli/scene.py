"""``foleykit scene SCENE.yaml -o scene.wav [--png PNG] [--json FILE]``: a timeline of events
and control automation rendered offline through the real engine, block by block, exactly as
a game drives it (see :mod:`foleykit.scene` for the file format)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: "argparse._SubParsersAction") -> None:
    p = subparsers.add_parser(
        "scene", help="render a scene file (events + automation) through the engine",
        description=__doc__.split("\n\n")[0].split(": ", 1)[-1])
    p.add_argument("scene", metavar="SCENE.yaml", help="the scene (YAML or JSON)")
    p.add_argument("-o", "--out", required=True, metavar="OUT.wav", help="the mix (float WAV)")
    p.add_argument("--png", metavar="OUT.png", help="also a spectrogram picture with the events")
    p.add_argument("--json", metavar="FILE", help="also the sounds and the engine's figures")
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ..scene import SceneError, render_scene
    from ..scene_demo import _picture, _write_wav

    def progress(x: float, last=[0.0]) -> None:
        if not args.no_progress and (x - last[0] >= 0.1 or x >= 1.0):
            last[0] = x
            print(f"[scene] {x * 100:3.0f}%", file=sys.stderr)

    try:
        r = render_scene(args.scene, progress=progress)
    except SceneError as e:
        print(f"foleykit scene: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # a bad control or value, named by the schema
        print(f"foleykit scene: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_wav(out, r["audio"], r["sample_rate"])
    e = r["engine"]
    print(f"wrote {out}: {len(r['audio']) / r['sample_rate']:.2f} s, {r['channels']} ch, "
          f"{len(r['sounds'])} sounds, peak voices {e['peak_voices']}, "
          f"underruns {e['stats'].get('underruns')}")
    if args.png:
        Path(args.png).parent.mkdir(parents=True, exist_ok=True)
        _picture(Path(args.png), r["audio"], r["sample_rate"], r["sounds"])
        print(f"wrote {args.png}")
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in r.items() if k != "audio"},
                                              indent=2, default=str))
        print(f"wrote {args.json}")
    return 0

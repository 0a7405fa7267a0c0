"""``foleykit demo``: the default models play a scene through the engine (see
:mod:`foleykit.scene_demo`); ``--dsp`` runs the DSP demo instead (:mod:`foleykit.demo`)."""
from __future__ import annotations

import argparse


def register(subparsers: "argparse._SubParsersAction") -> None:
    demo = subparsers.add_parser(
        "demo", help="the default models play a 30 s scene through the engine; a report",
        description="Renders a ~30 s scene (city street, footsteps changing surface, impacts "
        "of several materials and velocities, UI clicks, a whoosh, wind gusts, rain growing "
        "heavier) with the default models through the engine, block by block, and writes "
        "scene.wav, scene.png, each sound alone, and report.html / report.json with the "
        "engine's measured figures. --dsp: the DSP demo (test sounds rebuilt with every "
        "phase method).")
    demo.add_argument("--out", default="demo_out", metavar="DIR",
                      help="output folder (default: demo_out)")
    demo.add_argument("--scene", metavar="SCENE.yaml",
                      help="render this scene instead of the built-in demo scene")
    demo.add_argument("--dsp", action="store_true",
                      help="run the DSP demo (phase reconstruction of test sounds) instead")
    demo.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if args.dsp:
        from .. import demo

        demo.run(args.out)
        return 0
    from .. import scene_demo

    scene_demo.run(args.out, scene=args.scene)
    return 0

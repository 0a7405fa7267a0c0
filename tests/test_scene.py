"""Scenes through the real engine: the file format's checks, a rendered scene that is audible,
deterministic and follows its events, the `foleykit scene` command and the demo."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from foleykit.cli import main
from foleykit.scene import SceneError, load_scene, render_scene

SMALL = {
    "duration": 3.0, "block": 256, "models": {"fx": "oneshots", "amb": "ambiences"},
    "events": [
        {"at": 0.0, "start": "rain", "model": "amb", "controls": {"category": "rain",
                                                                  "intensity": 0.3},
         "gain": 0.5, "seed": 2},
        {"at": 1.0, "trigger": "fx", "controls": {"category": "impact", "material": "metal",
                                                  "velocity": 6.0}, "seed": 4, "pan": 0.8},
        {"at": 2.0, "stop": "rain", "fade_ms": 200},
    ],
    "automation": [{"voice": "rain", "control": "intensity", "from": 0.3, "to": 0.9,
                    "start": 0.2, "end": 1.8}],
}


def test_scene_format_errors_name_the_entry():
    cases = [
        ({**SMALL, "models": {}}, "models"),
        ({**SMALL, "events": [{"at": 0.0, "trigger": "nope"}]}, "events\\[0\\].*model"),
        ({**SMALL, "automation": [], "events": [{"at": 0.0, "set": "rain", "controls": {}}]},
         "no earlier"),
        ({**SMALL, "events": [{"at": 99.0, "trigger": "fx"}]}, "events\\[0\\].at"),
        ({**SMALL, "events": [{"at": 0.0, "trigger": "fx", "stop": "x"}]}, "exactly one"),
        ({**SMALL, "block": 0}, "block"),
        ({**SMALL, "automation": [{"voice": "rain"}]}, "automation\\[0\\]"),
    ]
    for scene, msg in cases:
        with pytest.raises(SceneError, match=msg):
            load_scene(scene)


def test_bad_controls_are_refused_with_their_name():
    bad = {**SMALL, "automation": [], "events": [{"at": 0.0, "trigger": "fx",
                                                  "controls": {"velocity": 1000.0}}]}
    with pytest.raises(ValueError, match="velocity"):
        render_scene(bad)


def test_scene_renders_audible_deterministic_and_follows_its_events():
    a = render_scene(SMALL)
    b = render_scene(SMALL)
    x = a["audio"]
    assert x.shape == (3 * 48000, 2) and np.isfinite(x).all()
    np.testing.assert_array_equal(x, b["audio"])  # same scene, same samples
    sr = 48000
    rms = lambda s, e: float(np.sqrt(np.mean(x[int(s * sr):int(e * sr)] ** 2)))
    assert rms(0.1, 0.9) > 1e-3            # rain plays
    assert rms(2.6, 3.0) < 1e-4            # stopped (the impact has rung out)
    # the impact is panned right: more energy right than left around its onset
    seg = x[int(1.0 * sr):int(1.3 * sr)]
    assert np.sum(seg[:, 1] ** 2) > np.sum(seg[:, 0] ** 2)
    st = a["engine"]["stats"]
    assert st["voices_started"] == 2 and st["voices_ended"] == 2 and st["underruns"] == 0
    assert [s["label"] for s in a["sounds"]] == ["rain", "impact"]


def test_scene_command_and_demo(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL))
    wav, png = tmp_path / "out.wav", tmp_path / "out.png"
    assert main(["scene", str(path), "-o", str(wav), "--png", str(png), "--json",
                 str(tmp_path / "out.json"), "--no-progress"]) == 0
    y, sr = sf.read(str(wav))
    assert sr == 48000 and y.shape == (3 * 48000, 2)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["scene", str(tmp_path / "missing.yaml"), "-o", str(wav)]) == 2
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--scene", str(path)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert len(report["files"]["sounds"]) == 2
    assert all((out / f).is_file() for f in report["files"]["sounds"])
    assert "<audio" in (out / "report.html").read_text()
    assert report["engine"]["peak_voices"] >= 1

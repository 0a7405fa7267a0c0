"""The native engine from Python (foleykit.Engine over foleykit._core.Engine): triggers are
heard in the next render once prepared, voices are deterministic across block sizes and
equal what foleykit.Runtime renders for the same model, controls and seed, controls are
named and checked, refusals are clear, events arrive. Every wait is Engine.sync() (a
condition the engine reports), never a sleep."""
from __future__ import annotations

import numpy as np
import pytest

import foleykit
from foleykit import DSPError, Engine, Runtime
from foleykit.models import default

FADE = 96  # the engine fades a one-shot's last 2 ms at 48 kHz


def _render_until_idle(eng: Engine, block: int, max_blocks: int = 4000) -> np.ndarray:
    out = []
    for b in range(max_blocks):
        assert eng.sync(30.0)
        s = eng.stats
        if b and s["jobs_pending"] == 0 and s["voices_ready"] == 0 and s["voices_playing"] == 0:
            break
        out.append(eng.render(block))
    return np.concatenate(out)


@pytest.fixture
def eng():
    e = Engine(channels=2, max_block_frames=512)
    e.add_model("oneshots")
    e.add_model("ambiences")
    yield e
    e.close()


def test_engine_is_exported_lazily():
    assert "Engine" in foleykit.__all__
    assert foleykit.Engine is Engine


def test_trigger_is_heard_in_the_next_render(eng):
    voice = eng.trigger(0, {"category": "impact", "material": "metal", "velocity": 6.0}, seed=3)
    assert voice & 0xFFFF == 0 and voice > 0
    assert eng.sync()  # the worker has prepared it
    assert eng.stats["voices_ready"] == 1
    block = eng.render(256)
    assert block.shape == (256, 2) and block.dtype == np.float32
    assert np.abs(block).max() > 1e-3
    assert eng.stats["voices_started"] == 1


@pytest.mark.parametrize("controls", [{"category": "footstep", "surface": "gravel"},
                                      {"category": "door", "door.action": "creak"}])
def test_same_samples_whatever_the_block_size(controls):
    outs = []
    for block in (64, 256, 1000):  # 1000 > max_block_frames: render loops internally
        with Engine(channels=2, max_block_frames=512) as e:
            e.add_model("oneshots")
            e.trigger(0, controls, seed=11, gain=0.7, pan=0.25)
            outs.append(_render_until_idle(e, block))
    n = min(len(o) for o in outs)
    assert np.abs(outs[0][:n]).max() > 1e-3
    for o in outs[1:]:
        np.testing.assert_array_equal(o[:n], outs[0][:n])
    for o in outs:
        assert not o[n:].any()  # nothing after the voice but silence


def test_one_shot_equals_runtime_render():
    """Mono, gain 1: the engine plays exactly what Runtime.render makes (PGHI), bar the
    2 ms end fade."""
    controls = {"category": "glass_break", "glass_break.size": 0.8}
    ref = Runtime(default.native_path("oneshots")).render(controls, seed=5, method="pghi")
    with Engine(channels=1) as e:
        e.add_model("oneshots")
        e.trigger(0, controls, seed=5, quality="medium")
        got = _render_until_idle(e, 256)[:, 0]
    assert len(got) >= len(ref)
    np.testing.assert_allclose(got[:len(ref) - FADE], ref[:len(ref) - FADE], atol=1e-6)
    assert np.all(np.abs(got[len(ref) - FADE:len(ref)]) <= np.abs(ref[len(ref) - FADE:]) + 1e-6)
    assert not got[len(ref):].any()


def test_ambience_equals_runtime_stream():
    """An ambience streams the same samples as Runtime.stream for its controls and seed."""
    controls = {"category": "water_stream", "flow": 0.7}
    rt = Runtime(default.native_path("ambiences"))
    stream = rt.stream(controls, seed=4, block_frames=8, method="rtpghi")
    ref = np.concatenate([next(stream) for _ in range(40)])
    with Engine(channels=1, max_block_frames=256) as e:
        e.add_model("ambiences")
        e.start(0, controls, seed=4, quality="medium")
        got = []
        for _ in range(len(ref) // 256):
            assert e.sync()
            got.append(e.render(256)[:, 0])
        got = np.concatenate(got)
        assert e.stats["underruns"] == 0
    n = len(got)
    assert np.abs(ref[:n]).max() > 1e-4
    # Bit for bit: both run the model natively and then the same exp, mel inverse and RTPGHI
    # (a 1-ulp difference in an input magnitude can grow to 1e-4 through the onset refinement).
    np.testing.assert_array_equal(got, ref[:n])


def test_set_controls_by_name_keeps_the_others(eng):
    wind = eng.start(1, {"category": "wind", "strength": 0.1}, seed=2)
    assert eng.sync()
    quiet = np.concatenate([eng.render(512) for _ in range(20)])
    eng.set_controls(wind, {"strength": 1.0})  # category stays "wind"
    out = []
    for _ in range(150):
        assert eng.sync()
        out.append(eng.render(512))
    loud = np.concatenate(out)[-48000:]
    assert np.sqrt(np.mean(loud ** 2)) > 1.3 * np.sqrt(np.mean(quiet ** 2))
    assert eng._controls[wind] == {"category": "wind", "strength": 1.0}
    with pytest.raises(ValueError, match="unknown control 'loudness'"):
        eng.set_controls(wind, {"loudness": 1.0})
    with pytest.raises(ValueError, match="strength"):
        eng.set_controls(wind, {"strength": 7.0})
    shot = eng.trigger(0, {"category": "ui"})
    with pytest.raises(ValueError, match="one-shot"):
        eng.set_controls(shot, {"intensity": 0.5})
    eng.stop(wind, fade_ms=20)
    _render_until_idle(eng, 512)
    events = eng.poll_events()
    assert sum(e["type"] == "voice_ended" and e["voice"] == wind for e in events) == 1
    assert wind not in eng._controls


def test_stop_fades_to_silence(eng):
    rain = eng.start(1, {"category": "rain", "intensity": 0.9}, seed=8)
    assert eng.sync()
    assert np.abs(eng.render(1024)).max() > 1e-3
    eng.stop(rain, fade_ms=30)
    assert eng.sync()
    after = np.concatenate([eng.render(256) for _ in range(12)])
    fade = 48000 * 30 // 1000
    assert np.abs(after[:256]).max() > 0
    assert not after[fade:].any()
    assert eng.stats["voices_playing"] == 0


def test_events_and_stats(eng):
    v = eng.trigger(0, {"category": "whoosh"}, seed=1)
    _render_until_idle(eng, 256)
    events = eng.poll_events()
    assert [e["type"] for e in events] == ["voice_started", "voice_ended"]
    assert all(e["voice"] == v and e["model"] == 0 for e in events)
    assert events[0]["value"] >= 0 and events[1]["frame"] > 0
    s = eng.stats
    assert s["voices_started"] == 1 and s["voices_ended"] == 1 and s["oneshots_rendered"] == 1
    assert s["frames_rendered"] > 0 and s["models"] == 2
    # trigger -> playable, as the engine measured it: no later than the voice first sounded
    assert 0 < s["ready_latency_ns"] <= events[0]["value"] * 1000 + 1000
    assert s["oneshots_early"] <= s["oneshots_rendered"]
    assert eng.poll_events() == []


def test_voice_limit_steals_the_quietest():
    with Engine(channels=2, max_voices=2) as e:
        e.add_model("oneshots")
        c = {"category": "explosion"}
        loud, mid = e.trigger(0, c, seed=1, gain=1.0), e.trigger(0, c, seed=1, gain=0.5)
        e.sync()
        e.render(256)
        louder = e.trigger(0, c, seed=1, gain=2.0)
        e.sync()
        e.render(256)
        stolen = [x["voice"] for x in e.poll_events() if x["type"] == "voice_stolen"]
        assert stolen == [mid]
        assert louder != loud


def test_refusals(eng):
    with pytest.raises(ValueError, match="unknown model id 7"):
        eng.trigger(7)
    with pytest.raises(ValueError, match="surface"):
        eng.trigger(0, {"surface": "lava"})
    with pytest.raises(ValueError, match="fk_engine_start"):
        eng.trigger(1)  # an ambience model
    with pytest.raises(ValueError, match="fk_engine_trigger"):
        eng.start(0)  # a one-shot model
    with pytest.raises(ValueError, match="gain"):
        eng.trigger(0, gain=float("nan"))
    with pytest.raises(ValueError, match="pan"):
        eng.trigger(0, pan=3.0)
    with pytest.raises(ValueError, match="quality"):
        eng.trigger(0, quality="ultra")
    with pytest.raises(ValueError, match="unknown voice"):
        eng.stop(12345)
    with pytest.raises(ValueError, match="fade_ms"):
        eng.stop(eng.trigger(0), fade_ms=-1)
    with pytest.raises(ValueError):
        eng.render(-1)
    with pytest.raises(ValueError, match="whole number of frames"):
        eng.render_into(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="neither a default model"):
        eng.add_model("no_such_model.fkm")
    with pytest.raises(DSPError, match="wrong sample rate"):
        Engine(sample_rate=44100).add_model("oneshots")
    with pytest.raises(DSPError, match="channels"):
        Engine(channels=3)
    e = Engine()
    e.close()
    with pytest.raises(ValueError, match="closed"):
        e.render(16)


def test_model_by_path_and_render_into(tmp_path):
    with Engine(channels=1) as e:
        assert e.add_model(default.path("oneshots")) == 0  # the .onnx: its .fkm beside it
        assert e.add_model(str(default.native_path("ambiences"))) == 1
        assert e.mode(0) == "one_shot" and e.mode(1) == "step"
        assert e.schema(1)["category"].choices[0] == "rain"
        e.trigger(0, {"category": "footstep"}, seed=2)
        assert e.sync()
        out = np.zeros(300, np.float32)
        e.render_into(out)
        assert np.abs(out).max() > 1e-4


# --- events by callback, and a full command queue -----------------------------------------

def _wait_for(cond, timeout: float = 10.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.002)
    return cond()


def test_event_callback_runs_on_a_worker_and_replaces_polling(eng):
    import threading

    got, threads = [], set()

    def on_event(ev):
        threads.add(threading.get_ident())
        got.append(ev)

    eng.set_event_callback(on_event)
    v = eng.trigger(0, {"category": "whoosh"}, seed=1)
    _render_until_idle(eng, 256)
    assert _wait_for(lambda: len(got) >= 2)
    assert [e["type"] for e in got] == ["voice_started", "voice_ended"]
    assert all(e["voice"] == v and e["model"] == 0 for e in got)
    assert threading.get_ident() not in threads and len(threads) == 1  # worker 0, not us
    assert eng.poll_events() == []  # the callback took them

    eng.set_event_callback(None)  # back to polling
    v2 = eng.trigger(0, {"category": "ui"}, seed=2)
    _render_until_idle(eng, 256)
    polled = []
    assert _wait_for(lambda: polled.extend(eng.poll_events()) or len(polled) >= 2)
    assert [(e["type"], e["voice"]) for e in polled] == [("voice_started", v2), ("voice_ended", v2)]
    assert len(got) == 2


def test_ambience_controls_forgotten_when_its_end_arrives_by_callback(eng):
    ended = []
    eng.set_event_callback(lambda ev: ended.append(ev) if ev["type"] == "voice_ended" else None)
    rain = eng.start(1, {"category": "rain", "intensity": 0.3}, seed=1)
    eng.sync(10.0)
    eng.render(512)
    assert rain in eng._controls
    eng.stop(rain, fade_ms=5.0)
    for _ in range(20):
        eng.sync(10.0)
        eng.render(512)
    assert _wait_for(lambda: any(e["voice"] == rain for e in ended))
    assert rain not in eng._controls


def test_event_callback_exception_is_reported_and_the_engine_goes_on(eng, monkeypatch):
    import sys

    reports, calls = [], []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reports.append(u))

    def broken(ev):
        calls.append(ev["type"])
        raise RuntimeError("a bug in the game's handler")

    eng.set_event_callback(broken)
    eng.trigger(0, {"category": "ui"}, seed=1)
    _render_until_idle(eng, 256)
    assert _wait_for(lambda: len(calls) >= 2 and len(reports) >= 2)
    assert any("a bug in the game's handler" in str(r.exc_value) for r in reports)
    eng.set_event_callback(None)
    eng.trigger(0, {"category": "ui"}, seed=2)  # still working
    out = _render_until_idle(eng, 256)
    assert np.abs(out).max() > 0


def test_event_callback_refusals(eng):
    with pytest.raises(TypeError, match="callable"):
        eng.set_event_callback(42)
    errors = []

    def reenter(ev):
        for call in (lambda: eng.set_event_callback(None), eng.close):
            try:
                call()
            except DSPError as e:
                errors.append(str(e))

    eng.set_event_callback(reenter)
    eng.trigger(0, {"category": "ui"}, seed=1)
    _render_until_idle(eng, 256)
    assert _wait_for(lambda: len(errors) >= 2)
    assert all("inside the engine's event callback" in e for e in errors[:2])
    eng.set_event_callback(None)
    eng.trigger(0, {"category": "ui"}, seed=2)
    assert np.abs(_render_until_idle(eng, 256)).max() > 0  # and the engine still works


def test_close_with_a_busy_callback_does_not_deadlock():
    """Closing (and dropping) an engine whose worker is inside a Python callback, from the
    main thread that holds the GIL, must not hang; neither may interpreter exit with a callback
    set. A child process, so a deadlock fails the test instead of hanging the suite."""
    import subprocess
    import sys

    code = r"""
import time, numpy as np
from foleykit import Engine
for round in range(3):
    eng = Engine(max_block_frames=256)
    eng.add_model("oneshots")
    def slow(ev):
        time.sleep(0.01)
    eng.set_event_callback(slow)
    for i in range(20):
        eng.trigger(0, {"category": "ui"}, seed=i)
    for _ in range(30):
        eng.sync(5.0); eng.render(256)
    if round == 0:
        eng.close()
    elif round == 1:
        del eng
# round 2: left open, with a callback set, for interpreter exit
eng.trigger(0, {"category": "ui"}, seed=99)
print("done")
"""
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("closing an engine with a Python event callback deadlocked")
    assert out.returncode == 0 and "done" in out.stdout, out.stderr[-2000:]


def test_full_command_queue_is_busy_and_queues_nothing():
    # No render: finished voices never free their slots, so the worker stops taking commands
    # and the queue of 4 fills up.
    with Engine(max_block_frames=256, max_voices=1, command_capacity=4) as eng:
        eng.add_model("oneshots")
        with pytest.raises(DSPError, match="queue is full"):
            for i in range(10000):
                eng.trigger(0, {"category": "ui"}, seed=i)
        assert eng.stats["overloads"] >= 1

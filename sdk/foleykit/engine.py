"""The native engine from Python: ``foleykit.Engine``.

The same engine that Unity, Godot and C hosts drive through the C ABI
(``fk_engine_*``): worker threads turn triggers into sound (model inference, then phase
reconstruction), and :meth:`Engine.render` mixes every voice. Controls are given by name,
as everywhere in FoleyKit; each model's :class:`~foleykit.models.controls.ControlSchema`
turns them into the per-control values the engine takes.

>>> from foleykit import Engine
>>> eng = Engine(channels=2)                                                # doctest: +SKIP
>>> steps, amb = eng.add_model("oneshots"), eng.add_model("ambiences")     # doctest: +SKIP
>>> v = eng.trigger(steps, {"category": "footstep", "surface": "gravel"}, seed=3, pan=-0.3)
>>> rain = eng.start(amb, {"category": "rain", "intensity": 0.2})          # doctest: +SKIP
>>> eng.sync(); block = eng.render(256)             # (256, 2) float32     # doctest: +SKIP
>>> eng.set_controls(rain, {"intensity": 0.9})      # category stays rain  # doctest: +SKIP

Rendering from Python is for tools, tests and offline bounces: call :meth:`sync` before each
block to render faster than real time without underruns.
"""
from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

import numpy as np

from . import _core
from .models.controls import ControlSchema

__all__ = ["Engine", "QUALITIES"]

QUALITIES = ("auto", "low", "medium", "high")
_MODEL_ID_MASK = 0xFFFF  # a voice id's low 16 bits are its model id (foleykit.h)


def _resolve_model(model: Union[str, Path]) -> Path:
    """A default model's name ("oneshots", "ambiences" and their aliases) or a path to a
    ``.fkm`` file (or to an ``.onnx`` file with its ``.fkm`` beside it)."""
    from .models import default

    if isinstance(model, str) and default.ALIASES.get(model, model) in default.KINDS:
        return default.native_path(model)
    path = Path(model)
    if path.suffix == ".onnx":
        fkm = path.with_suffix(".fkm")
        if not fkm.is_file():
            raise ValueError(f"the engine runs native model files; {fkm.name} is missing beside "
                             f"{path.name} (foleykit export --native-from {path})")
        path = fkm
    if not path.is_file():
        raise ValueError(f"model {str(model)!r} is neither a default model "
                         f"({', '.join(default.KINDS)}) nor an existing file")
    return path


def _schema_of(data: bytes) -> ControlSchema:
    from .runtime import _fkm_header

    return ControlSchema.from_dict(_fkm_header(data)["meta"]["control_schema"])


class Engine:
    """Voices of FoleyKit models, mixed by the native engine.

    ``sample_rate`` must match the models' (48 kHz for the defaults); ``channels`` is 1 or 2
    (interleaved, constant-power pan). Further keyword options are the engine config's
    (``max_clip_seconds``, ``ambience_buffer_samples``, ``command_capacity``,
    ``event_capacity``, ``max_models``, ``control_smoothing_ms``, ``quiet_gain``,
    ``overload_backlog``, ``default_quality``).
    """

    def __init__(self, sample_rate: int = 48000, channels: int = 2, max_block_frames: int = 512,
                 max_voices: int = 32, worker_threads: int = 1, **options: Any) -> None:
        self._e = _core.Engine(sample_rate=sample_rate, channels=channels,
                               max_block_frames=max_block_frames, max_voices=max_voices,
                               worker_threads=worker_threads, **options)
        self._schemas: Dict[int, ControlSchema] = {}
        self._modes: Dict[int, str] = {}
        # Ambience voices: the named controls they play with, so set_controls may name only
        # what changes (dropped when the voice ends).
        self._controls: Dict[int, Dict[str, Any]] = {}
        # Close at garbage collection or, at the latest, when the interpreter exits (before
        # it finalizes): the workers must not be left waiting for a GIL that is going away.
        self._finalizer = weakref.finalize(self, self._e.close)

    # -- models ------------------------------------------------------------------------------

    def add_model(self, model: Union[str, Path] = "oneshots") -> int:
        """Registers a model by default name or path; returns its model id. ValueError (a
        :class:`foleykit.DSPError`) for a model the engine cannot play, e.g. another sample
        rate."""
        data = _resolve_model(model).read_bytes()
        schema = _schema_of(data)
        model_id = int(self._e.add_model_bytes(data))
        self._schemas[model_id] = schema
        self._modes[model_id] = self._e.model_mode(model_id)
        return model_id

    def schema(self, model: int) -> ControlSchema:
        """The control schema of a registered model."""
        try:
            return self._schemas[model]
        except KeyError:
            raise ValueError(f"unknown model id {model!r}; registered: "
                             f"{sorted(self._schemas) or 'none'}") from None

    def mode(self, model: int) -> str:
        """``"one_shot"`` or ``"step"`` (an ambience)."""
        self.schema(model)
        return self._modes[model]

    # -- voices ------------------------------------------------------------------------------

    def trigger(self, model: int, controls: Optional[Mapping[str, Any]] = None, seed: int = 0,
                gain: float = 1.0, pan: float = 0.0, quality: str = "auto") -> int:
        """Plays a one-shot; returns its voice id. Same (model, controls, seed, quality) ->
        same samples. ValueError names a bad control or value."""
        values = self.schema(model).values(controls)
        return int(self._e.trigger(model, values, int(seed), float(gain), float(pan), quality))

    def start(self, model: int, controls: Optional[Mapping[str, Any]] = None, seed: int = 0,
              gain: float = 1.0, pan: float = 0.0, quality: str = "auto") -> int:
        """Starts an ambience (step model) that streams until stopped; returns its voice id."""
        values = self.schema(model).values(controls)
        voice = int(self._e.start(model, values, int(seed), float(gain), float(pan), quality))
        self._controls[voice] = dict(controls or {})
        return voice

    def set_controls(self, voice: int, controls: Mapping[str, Any]) -> None:
        """New controls for a playing ambience: only the named ones change; continuous ones
        glide (``control_smoothing_ms``). A one-shot voice raises ValueError."""
        model = int(voice) & _MODEL_ID_MASK
        merged = {**self._controls.get(int(voice), {}), **dict(controls)}
        values = self.schema(model).values(merged)
        self._e.set_controls(int(voice), values)
        if int(voice) in self._controls:
            self._controls[int(voice)] = merged

    def set_voice_gain(self, voice: int, gain: float, pan: float = 0.0) -> None:
        """New gain and pan for any voice, glided over 5 ms."""
        self._e.set_voice_gain(int(voice), float(gain), float(pan))

    def stop(self, voice: int, fade_ms: float = 50.0) -> None:
        """Fades the voice out and ends it (a voice that has ended is ignored)."""
        self._e.stop(int(voice), float(fade_ms))

    # -- audio -------------------------------------------------------------------------------

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames of the mix, ``(frames, channels)`` float32."""
        return self._e.render(int(frames))

    def render_into(self, out: np.ndarray) -> None:
        """Fills a C-contiguous float32 array of ``frames * channels`` values."""
        self._e.render_into(out)

    def sync(self, timeout: float = 5.0) -> bool:
        """Waits until every voice asked for is ready for the next render and every ambience
        has streamed ahead in full; False on timeout."""
        return bool(self._e.sync(float(timeout)))

    # -- observing ---------------------------------------------------------------------------

    def poll_events(self) -> List[Dict[str, Any]]:
        """Events since the last poll, oldest first: dicts with ``type`` ("voice_started",
        "voice_ended", "voice_stolen", "underrun", "overload", "voice_failed"), ``voice``,
        ``model``, ``frame`` (the engine clock) and ``value``."""
        events = self._e.poll_events()
        for e in events:
            if e["type"] == "voice_ended":
                self._controls.pop(e["voice"], None)
        return events

    def set_event_callback(self, fn: Optional[Callable[[Dict[str, Any]], None]]) -> None:
        """Calls ``fn(event)`` for every event from now on (the dicts :meth:`poll_events`
        returns), on the engine's worker thread 0: never the audio thread, never the caller's.
        While a callback is set, :meth:`poll_events` returns nothing; ``None`` goes back to
        polling. Keep ``fn`` short (it holds up that worker, and takes the GIL); an exception
        in it goes to :func:`sys.unraisablehook` and the engine carries on. It must not call
        :meth:`close` or :meth:`set_event_callback` (DSPError)."""
        if fn is None:
            self._e.set_event_callback(None)
            return
        if not callable(fn):
            raise TypeError(f"the event callback must be callable, got {type(fn).__name__}")
        ref = weakref.ref(self)  # no cycle through the native engine

        def dispatch(event: Dict[str, Any]) -> None:
            me = ref()
            if me is not None and event["type"] == "voice_ended":
                me._controls.pop(event["voice"], None)
            fn(event)

        self._e.set_event_callback(dispatch)

    @property
    def stats(self) -> Dict[str, int]:
        """Counters (voices started/ended/stolen, underruns, overloads, frames rendered, ...)
        and gauges (voices playing, jobs pending). ``ready_latency_ns`` sums, over every voice
        a worker handed to the audio thread, the time from ``trigger``/``start`` until it was
        playable: its change across one trigger is that voice's latency. ``oneshots_early``
        counts one-shots handed over once their first part was made (long PGHI clips)."""
        return self._e.stats

    @property
    def sample_rate(self) -> int:
        return self._e.sample_rate

    @property
    def channels(self) -> int:
        return self._e.channels

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stops the worker threads and frees the engine (also when garbage-collected)."""
        self._finalizer()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

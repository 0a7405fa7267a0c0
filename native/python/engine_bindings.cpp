// foleykit._core.Engine: the native engine for Python (foleykit.Engine wraps it with named
// controls). Game-thread calls raise DSPError with the engine's message; render returns a
// new (frames, channels) float32 array or fills the caller's.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "dsp/error.hpp"
#include "engine/engine.hpp"
#include "model/model.hpp"

namespace py = pybind11;
using fk::Error;
using fk::Status;
namespace fe = fk::engine;
namespace fm = fk::model;

using farray = py::array_t<float, py::array::c_style | py::array::forcecast>;

namespace {

fe::Quality quality_from(const std::string& q) {
  if (q == "auto") return fe::Quality::Auto;
  if (q == "low") return fe::Quality::Low;
  if (q == "medium") return fe::Quality::Medium;
  if (q == "high") return fe::Quality::High;
  throw Error(Status::InvalidArgument, "quality must be 'auto', 'low', 'medium' or 'high', got '" + q + "'");
}

const char* event_name(fe::EventType t) {
  switch (t) {
    case fe::EventType::VoiceStarted: return "voice_started";
    case fe::EventType::VoiceEnded: return "voice_ended";
    case fe::EventType::VoiceStolen: return "voice_stolen";
    case fe::EventType::Underrun: return "underrun";
    case fe::EventType::Overload: return "overload";
    case fe::EventType::VoiceFailed: return "voice_failed";
  }
  return "unknown";
}

py::dict event_dict(const fe::Event& ev) {
  py::dict d;
  d["type"] = event_name(ev.type);
  d["voice"] = ev.voice;
  d["model"] = ev.model;
  d["frame"] = ev.frame;
  d["value"] = ev.value;
  return d;
}

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// Set while this thread runs a Python event callback: the engine's callback mutex is held
// then, so clearing the callback or closing the engine from inside it would wait for itself.
thread_local bool t_in_callback = false;

// Runs on worker 0 (never the audio thread). Takes the GIL for the call; an exception in the
// callable is reported through sys.unraisablehook and the engine carries on.
void python_event_trampoline(const fe::Event& ev, void* user) {
  if (!Py_IsInitialized() || interpreter_finalizing()) return;
  py::gil_scoped_acquire gil;
  t_in_callback = true;
  try {
    (*static_cast<py::object*>(user))(event_dict(ev));
  } catch (py::error_already_set& e) {
    e.discard_as_unraisable("foleykit.Engine event callback");
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    PyErr_WriteUnraisable(Py_None);
  }
  t_in_callback = false;
}

// Holds the engine through a shared_ptr: a call that releases the GIL keeps its own
// reference, so close() from another Python thread cannot free it underneath. The Python
// event callback lives here (its address is the engine's user_data) and is cleared from the
// engine, with the GIL released, before the engine or the callable goes away: the worker may
// be waiting for the GIL inside the trampoline.
struct PyEngine {
  std::shared_ptr<fe::Engine> engine;
  std::unique_ptr<py::object> callback;

  explicit PyEngine(std::shared_ptr<fe::Engine> e) : engine(std::move(e)) {}
  PyEngine(PyEngine&&) = default;
  PyEngine& operator=(PyEngine&&) = delete;
  ~PyEngine() { shutdown(); }

  std::shared_ptr<fe::Engine> get() const {
    if (!engine) throw Error(Status::InvalidArgument, "the engine is closed");
    return engine;
  }

  static void refuse_inside_callback(const char* what) {
    if (t_in_callback)
      throw Error(Status::Unsupported, std::string(what) +
                                           " cannot be called from inside the engine's event "
                                           "callback (it would wait for that very call)");
  }

  void set_callback(std::unique_ptr<py::object> fn) {
    auto eng = get();
    std::unique_ptr<py::object> old = std::move(callback);
    callback = std::move(fn);
    {
      py::gil_scoped_release nogil;  // waits for a call in progress, which needs the GIL
      eng->set_event_callback(callback ? &python_event_trampoline : nullptr, callback.get());
    }
    // old is released here, with the GIL held and no longer reachable by the worker.
  }

  void shutdown() {
    if (!engine) return;
    std::shared_ptr<fe::Engine> eng = std::move(engine);
    if (t_in_callback) {
      // The last reference went away inside the callback, on the worker that would have to be
      // joined. Finish on a thread of its own once this call returns.
      py::object* fn = callback.release();
      std::thread([eng = std::move(eng), fn]() mutable {
        if (fn) eng->set_event_callback(nullptr, nullptr);  // waits for the running call
        eng.reset();
        if (fn && Py_IsInitialized() && !interpreter_finalizing()) {
          py::gil_scoped_acquire gil;
          delete fn;
        }
      }).detach();
      return;
    }
    {
      py::gil_scoped_release nogil;
      if (callback) eng->set_event_callback(nullptr, nullptr);
      eng.reset();  // joins the workers (unless another call still holds it)
    }
    callback.reset();
  }
};

void check(Status st, const char* err) {
  if (st != Status::Ok) throw Error(st, err);
}

// Control values: None (defaults) or one float per control.
std::pair<const float*, int> values_of(const std::optional<farray>& v) {
  if (!v) return {nullptr, 0};
  if (v->ndim() != 1) throw Error(Status::ShapeMismatch, "control values must be 1-D");
  return {v->data(), int(v->size())};
}

}  // namespace

void bind_engine(py::module_& m) {
  py::class_<PyEngine>(m, "Engine",
                       "The native engine: voices of .fkm models, prepared by worker threads and "
                       "mixed by render().")
      .def(py::init([](int sample_rate, int channels, int max_block_frames, int max_voices,
                       int worker_threads, float max_clip_seconds, int ambience_buffer_samples,
                       int command_capacity, int event_capacity, int max_models,
                       float control_smoothing_ms, float quiet_gain, int overload_backlog,
                       const std::string& default_quality) {
             fe::Config c;
             c.sample_rate = sample_rate;
             c.channels = channels;
             c.max_block_frames = max_block_frames;
             c.max_voices = max_voices;
             c.worker_threads = worker_threads;
             c.max_clip_seconds = max_clip_seconds;
             c.ambience_buffer_samples = ambience_buffer_samples;
             c.command_capacity = command_capacity;
             c.event_capacity = event_capacity;
             c.max_models = max_models;
             c.control_smoothing_ms = control_smoothing_ms;
             c.quiet_gain = quiet_gain;
             c.overload_backlog = overload_backlog;
             c.default_quality = quality_from(default_quality);
             if (c.default_quality == fe::Quality::Auto)
               throw Error(Status::InvalidArgument, "default_quality must be 'low', 'medium' or 'high'");
             return PyEngine(std::make_shared<fe::Engine>(c));
           }),
           py::arg("sample_rate") = 48000, py::arg("channels") = 2, py::arg("max_block_frames") = 512,
           py::arg("max_voices") = 32, py::arg("worker_threads") = 1, py::arg("max_clip_seconds") = 2.0f,
           py::arg("ambience_buffer_samples") = 8192, py::arg("command_capacity") = 256,
           py::arg("event_capacity") = 1024, py::arg("max_models") = 16,
           py::arg("control_smoothing_ms") = 50.0f, py::arg("quiet_gain") = 0.1f,
           py::arg("overload_backlog") = 8, py::arg("default_quality") = "medium")
      .def_property_readonly("sample_rate", [](const PyEngine& e) { return e.get()->config().sample_rate; })
      .def_property_readonly("channels", [](const PyEngine& e) { return e.get()->config().channels; })
      .def_property_readonly("max_block_frames",
                             [](const PyEngine& e) { return e.get()->config().max_block_frames; })
      .def(
          "add_model",
          [](PyEngine& e, const std::string& path) {
            auto eng = e.get();
            // Without the GIL: add_model waits for the workers, and worker 0 may be waiting
            // for the GIL to run the event callback.
            py::gil_scoped_release nogil;
            return eng->add_model(fm::Model::load(path));
          },
          py::arg("path"), "Loads a .fkm file and registers it; returns its model id.")
      .def(
          "add_model_bytes",
          [](PyEngine& e, py::bytes data) {
            auto eng = e.get();
            std::string s = data;
            py::gil_scoped_release nogil;  // as add_model
            return eng->add_model(fm::Model::load_memory(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
          },
          py::arg("data"))
      .def(
          "model_mode",
          [](const PyEngine& e, int id) {
            auto m = e.get()->model(id);
            if (!m) throw Error(Status::InvalidArgument, "unknown model id " + std::to_string(id));
            return std::string(m->info().mode == fm::Mode::Step ? "step" : "one_shot");
          },
          py::arg("model"))
      .def(
          "trigger",
          [](PyEngine& e, int model, std::optional<farray> values, uint64_t seed, float gain, float pan,
             const std::string& quality) {
            auto v = values_of(values);
            char err[1024] = {0};
            fe::VoiceId id = 0;
            check(e.get()->trigger(model, v.first, v.second, seed, gain, pan, quality_from(quality), &id, err,
                                   sizeof err),
                  err);
            return id;
          },
          py::arg("model"), py::arg("values") = py::none(), py::arg("seed") = 0, py::arg("gain") = 1.0f,
          py::arg("pan") = 0.0f, py::arg("quality") = "auto",
          "Plays a one-shot: control values (one per control, schema order; None: defaults). "
          "Returns the voice id.")
      .def(
          "start",
          [](PyEngine& e, int model, std::optional<farray> values, uint64_t seed, float gain, float pan,
             const std::string& quality) {
            auto v = values_of(values);
            char err[1024] = {0};
            fe::VoiceId id = 0;
            check(e.get()->start(model, v.first, v.second, seed, gain, pan, quality_from(quality), &id, err,
                                 sizeof err),
                  err);
            return id;
          },
          py::arg("model"), py::arg("values") = py::none(), py::arg("seed") = 0, py::arg("gain") = 1.0f,
          py::arg("pan") = 0.0f, py::arg("quality") = "auto", "Starts an ambience; returns the voice id.")
      .def(
          "set_controls",
          [](PyEngine& e, uint64_t voice, farray values) {
            char err[1024] = {0};
            check(e.get()->set_controls(voice, values.data(), int(values.size()), err, sizeof err), err);
          },
          py::arg("voice"), py::arg("values"))
      .def(
          "set_voice_gain",
          [](PyEngine& e, uint64_t voice, float gain, float pan) {
            char err[1024] = {0};
            check(e.get()->set_gain(voice, gain, pan, err, sizeof err), err);
          },
          py::arg("voice"), py::arg("gain"), py::arg("pan") = 0.0f)
      .def(
          "stop",
          [](PyEngine& e, uint64_t voice, float fade_ms) {
            char err[1024] = {0};
            check(e.get()->stop(voice, fade_ms, err, sizeof err), err);
          },
          py::arg("voice"), py::arg("fade_ms") = 50.0f)
      .def(
          "render",
          [](PyEngine& e, int frames) {
            auto eng = e.get();
            if (frames < 0) throw Error(Status::InvalidArgument, "frames must be >= 0");
            farray out({py::ssize_t(frames), py::ssize_t(eng->config().channels)});
            Status st;
            {
              py::gil_scoped_release nogil;
              st = eng->render(out.mutable_data(), frames);
            }
            if (st == Status::Unsupported) throw Error(st, "render is already running on another thread");
            check(st, "render failed");
            return out;
          },
          py::arg("frames"), "The next `frames` frames of the mix: (frames, channels) float32.")
      .def(
          "render_into",
          [](PyEngine& e, py::array_t<float, py::array::c_style> out) {
            auto eng = e.get();
            const int ch = eng->config().channels;
            if (out.size() % ch != 0)
              throw Error(Status::ShapeMismatch, "out must hold a whole number of frames of " +
                                                     std::to_string(ch) + " channels");
            const int frames = int(out.size() / ch);
            float* p = out.mutable_data();
            Status st;
            {
              py::gil_scoped_release nogil;
              st = eng->render(p, frames);
            }
            check(st, "render failed");
          },
          py::arg("out"), "Renders into a C-contiguous float32 array (frames * channels values).")
      .def("poll_events",
           [](PyEngine& e) {
             auto eng = e.get();
             py::list out;
             fe::Event ev;
             while (eng->poll_event(&ev)) out.append(event_dict(ev));
             return out;
           },
           "Every waiting event, oldest first: dicts with type, voice, model, frame, value. "
           "Empty while an event callback is set.")
      .def(
          "set_event_callback",
          [](PyEngine& e, py::object fn) {
            PyEngine::refuse_inside_callback("set_event_callback");
            if (!fn.is_none() && !PyCallable_Check(fn.ptr()))
              throw Error(Status::InvalidArgument, "the event callback must be callable or None");
            e.set_callback(fn.is_none() ? nullptr : std::make_unique<py::object>(std::move(fn)));
          },
          py::arg("fn"),
          "fn(event_dict) for every event from now on, called on worker thread 0 (never the "
          "audio thread) with the GIL held; None returns to polling. Exceptions go to "
          "sys.unraisablehook.")
      .def_property_readonly("stats",
                             [](const PyEngine& e) {
                               const fe::Stats s = e.get()->stats();
                               py::dict d;
                               d["voices_playing"] = s.voices_playing;
                               d["voices_ready"] = s.voices_ready;
                               d["models"] = s.models;
                               d["jobs_pending"] = s.jobs_pending;
                               d["voices_started"] = s.voices_started;
                               d["voices_ended"] = s.voices_ended;
                               d["voices_stolen"] = s.voices_stolen;
                               d["underruns"] = s.underruns;
                               d["overloads"] = s.overloads;
                               d["events_dropped"] = s.events_dropped;
                               d["frames_rendered"] = s.frames_rendered;
                               d["oneshots_rendered"] = s.oneshots_rendered;
                               d["ambience_frames"] = s.ambience_frames;
                               d["worker_busy_ns"] = s.worker_busy_ns;
                               d["ready_latency_ns"] = s.ready_latency_ns;
                               d["oneshots_early"] = s.oneshots_early;
                               return d;
                             })
      .def(
          "sync",
          [](PyEngine& e, double timeout) {
            auto eng = e.get();
            py::gil_scoped_release nogil;
            return eng->sync(timeout);
          },
          py::arg("timeout") = 5.0,
          "Waits until every voice asked for is prepared and every ambience ring is full; False "
          "on timeout.")
      .def(
          "close",
          [](PyEngine& e) {
            PyEngine::refuse_inside_callback("close");
            e.shutdown();
          },
          "Stops the workers and frees the engine (also done when it is garbage-collected).")
      .def_property_readonly("closed", [](const PyEngine& e) { return !e.engine; });
}

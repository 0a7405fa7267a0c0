// foleykit._core.NativeModel: the native model runtime for Python (foleykit.Runtime's
// "native" backend, and the parity tests against ONNX Runtime).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "dsp/error.hpp"
#include "model/model.hpp"

namespace py = pybind11;
using fk::Error;
using fk::Status;
namespace fm = fk::model;

using farray = py::array_t<float, py::array::c_style | py::array::forcecast>;

namespace {

// One model and the session Python calls run on (guarded: Python threads may share it).
struct NativeModel {
  std::shared_ptr<const fm::Model> model;
  std::unique_ptr<fm::Session> session;
  // Taken only without the GIL (or for calls that never release it): a thread holding the
  // mutex while waiting for the GIL, and another holding the GIL while waiting for the
  // mutex, would deadlock.
  std::mutex mu;

  explicit NativeModel(std::shared_ptr<const fm::Model> m)
      : model(std::move(m)), session(model->create_session()) {}

  void check(Status st) {
    if (st != Status::Ok) throw Error(st, session->last_error());
  }
};

void require_size(const farray& a, py::ssize_t n, const char* name) {
  if (a.size() != n)
    throw Error(Status::ShapeMismatch, std::string(name) + " must have " + std::to_string(n) +
                                           " values, got " + std::to_string(a.size()));
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<NativeModel>(m, "NativeModel",
                          "A .fkm model on the native runtime, with one inference session.")
      .def(py::init([](const std::string& path) {
             return std::make_unique<NativeModel>(fm::Model::load(path));
           }),
           py::arg("path"))
      .def_static(
          "from_bytes",
          [](py::bytes data) {
            std::string s = data;
            return std::make_unique<NativeModel>(
                fm::Model::load_memory(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
          },
          py::arg("data"))
      .def_property_readonly("info",
                             [](const NativeModel& n) {
                               const fm::ModelInfo& i = n.model->info();
                               py::dict d;
                               const char* fam[] = {"vae", "gan", "transformer"};
                               d["family"] = fam[int(i.family)];
                               d["mode"] = i.mode == fm::Mode::OneShot ? "one_shot" : "step";
                               d["sample_rate"] = i.sample_rate;
                               d["n_fft"] = i.n_fft;
                               d["hop"] = i.hop;
                               d["n_mels"] = i.n_mels;
                               d["fmin"] = i.fmin;
                               d["fmax"] = i.fmax;
                               d["log_floor"] = i.log_floor;
                               d["max_frames"] = i.max_frames;
                               d["z_dim"] = i.z_dim;
                               d["window_frames"] = i.window;
                               d["control_dim"] = i.control_dim;
                               d["onnx_content_hash"] = i.onnx_content_hash;
                               return d;
                             })
      .def_property_readonly("controls",
                             [](const NativeModel& n) {
                               py::list out;
                               for (const fm::ControlInfo& c : n.model->controls()) {
                                 py::dict d;
                                 d["name"] = c.name;
                                 d["kind"] = c.categorical ? "categorical" : "continuous";
                                 d["choices"] = c.choices;
                                 d["low"] = c.low;
                                 d["high"] = c.high;
                                 d["log"] = c.log;
                                 d["default"] = c.default_value;
                                 d["unit"] = c.unit;
                                 out.append(d);
                               }
                               return out;
                             })
      .def(
          "encode_controls",
          [](NativeModel& n, farray values) {
            require_size(values, py::ssize_t(n.model->controls().size()), "control values");
            farray out(n.model->info().control_dim);
            char err[256] = {0};
            const Status st = n.model->encode_controls(values.data(), int(values.size()),
                                                       out.mutable_data(), err, sizeof err);
            if (st != Status::Ok) throw Error(st, err);
            return out;
          },
          py::arg("values"),
          "Control values (one per control: a value, or a choice index) -> control vector.")
      .def(
          "run_one_shot",
          [](NativeModel& n, farray z, farray cvec) {
            const fm::ModelInfo& i = n.model->info();
            require_size(z, i.z_dim, "z");
            require_size(cvec, i.control_dim, "control vector");
            farray mel({py::ssize_t(i.max_frames), py::ssize_t(i.n_mels)});
            farray alive(i.max_frames);
            {
              py::gil_scoped_release nogil;  // before locking: see NativeModel::mu
              std::lock_guard<std::mutex> lock(n.mu);
              n.check(n.session->run_one_shot(z.data(), cvec.data(), mel.mutable_data(),
                                              alive.mutable_data()));
            }
            return py::make_tuple(py::object(mel.attr("T")), alive);
          },
          py::arg("z"), py::arg("control_vector"),
          "The raw graph: z (z_dim,), control vector -> (log_mel (n_mels, frames), "
          "alive_logits (frames,)).")
      .def(
          "generate",
          [](NativeModel& n, std::optional<farray> values, uint64_t seed) {
            const fm::ModelInfo& i = n.model->info();
            if (values) require_size(*values, py::ssize_t(n.model->controls().size()), "control values");
            farray mel({py::ssize_t(i.max_frames), py::ssize_t(i.n_mels)});
            int frames = 0;
            {
              py::gil_scoped_release nogil;  // before locking: see NativeModel::mu
              std::lock_guard<std::mutex> lock(n.mu);
              n.check(n.session->generate(values ? values->data() : nullptr,
                                          values ? int(values->size()) : 0, seed,
                                          mel.mutable_data(), i.max_frames, &frames));
            }
            return py::object(farray(mel[py::slice(0, frames, 1)]).attr("T"));
          },
          py::arg("values") = py::none(), py::arg("seed") = 0,
          "One-shot: control values (None: defaults) and seed -> log-mel (n_mels, frames), "
          "cut after the last sounding frame.")
      .def(
          "run_step",
          [](NativeModel& n, farray frame, farray cvec, farray noise, farray state) {
            const fm::ModelInfo& i = n.model->info();
            require_size(frame, i.n_mels, "frame");
            require_size(cvec, i.control_dim, "control vector");
            require_size(noise, i.n_mels, "noise");
            require_size(state, py::ssize_t(i.window) * i.n_mels, "state");
            farray next(i.n_mels);
            farray next_state({py::ssize_t(i.window), py::ssize_t(i.n_mels)});
            {
              py::gil_scoped_release nogil;  // before locking: see NativeModel::mu
              std::lock_guard<std::mutex> lock(n.mu);
              n.check(n.session->run_step(frame.data(), cvec.data(), noise.data(), state.data(),
                                          next.mutable_data(), next_state.mutable_data()));
            }
            return py::make_tuple(next, next_state);
          },
          py::arg("frame"), py::arg("control_vector"), py::arg("noise"), py::arg("state"),
          "The raw step: frame (n_mels,), control vector, noise (n_mels,), state (window, "
          "n_mels) -> (next_frame, next_state).")
      .def(
          "stream_reset",
          [](NativeModel& n, std::optional<farray> values, uint64_t seed) {
            if (values) require_size(*values, py::ssize_t(n.model->controls().size()), "control values");
            std::lock_guard<std::mutex> lock(n.mu);
            n.check(n.session->stream_reset(values ? values->data() : nullptr,
                                            values ? int(values->size()) : 0, seed));
          },
          py::arg("values") = py::none(), py::arg("seed") = 0)
      .def(
          "stream_set_controls",
          [](NativeModel& n, farray values) {
            require_size(values, py::ssize_t(n.model->controls().size()), "control values");
            std::lock_guard<std::mutex> lock(n.mu);
            n.check(n.session->stream_set_controls(values.data(), int(values.size())));
          },
          py::arg("values"))
      .def(
          "stream_next",
          [](NativeModel& n, int count) {
            if (count < 0) throw Error(Status::InvalidArgument, "count must be >= 0");
            const fm::ModelInfo& i = n.model->info();
            farray out({py::ssize_t(count), py::ssize_t(i.n_mels)});
            {
              py::gil_scoped_release nogil;  // before locking: see NativeModel::mu
              std::lock_guard<std::mutex> lock(n.mu);
              n.check(n.session->stream_next(out.mutable_data(), count));
            }
            return py::object(out.attr("T"));
          },
          py::arg("count") = 1, "The next `count` frames of the stream, (n_mels, count).");

  m.def(
      "seed_noise",
      [](uint64_t seed, int n, uint64_t stream) {
        if (n < 0) throw Error(Status::InvalidArgument, "n must be >= 0");
        farray out(n);
        fm::seed_noise(seed, stream, out.mutable_data(), n);
        return out;
      },
      py::arg("seed"), py::arg("n"), py::arg("stream") = 0,
      "The native seeded normals (must equal foleykit.models.common.seed_noise).");
}

// foleykit._core: the native DSP core for Python. Arrays are float32/complex64,
// frequency-major [bins, frames]; float64 and non-contiguous arrays are converted on entry.
// Heavy calls release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <complex>
#include <optional>
#include <memory>
#include <map>
#include <mutex>
#include <tuple>
#include <string>
#include <utility>
#include <algorithm>
#include <vector>

#include "dsp/error.hpp"
#include "dsp/fft.hpp"
#include "dsp/griffin_lim.hpp"
#include "dsp/mel.hpp"
#include "dsp/pghi.hpp"
#include "dsp/phase_gradient.hpp"
#include "dsp/stft.hpp"
#include "dsp/streaming_synth.hpp"
#include "dsp/synthesis.hpp"
#include "dsp/version.hpp"

namespace py = pybind11;
using namespace fk;
using namespace fk::dsp;

using farray = py::array_t<float, py::array::c_style | py::array::forcecast>;
// Spectrograms are read through their strides (C or Fortran order, views): no copies.
using fspec = py::array_t<float, py::array::forcecast>;
using cspec = py::array_t<std::complex<float>, py::array::forcecast>;

namespace {

void require_ndim(const py::array& a, int ndim, const char* name) {
  if (a.ndim() != ndim)
    throw Error(Status::ShapeMismatch, std::string(name) + " must be " + std::to_string(ndim) +
                                           "-D, got " + std::to_string(a.ndim()) + "-D");
}

void require_finite(const float* x, int64_t n, const char* name) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i]))
      throw Error(Status::NonFinite, std::string(name) + " contains " +
                                         (std::isnan(x[i]) ? "NaN" : "Inf") + " at index " +
                                         std::to_string(i));
}

template <class A>
SpecLayout layout_of(const A& a) {
  const auto item = static_cast<int64_t>(a.itemsize());
  return {static_cast<int64_t>(a.strides(0)) / item, static_cast<int64_t>(a.strides(1)) / item};
}

// Magnitude [bins, frames] checked against n_fft.
int64_t check_mag(const fspec& mag, int n_fft, const char* name = "magnitude spectrogram") {
  require_ndim(mag, 2, name);
  const int64_t bins = mag.shape(0), F = mag.shape(1);
  if (bins != n_fft / 2 + 1)
    throw Error(Status::ShapeMismatch, std::string(name) + " has " + std::to_string(bins) +
                                           " bins but n_fft " + std::to_string(n_fft) + " needs " +
                                           std::to_string(n_fft / 2 + 1));
  const SpecLayout lay = layout_of(mag);
  validate_spectrogram(mag.data(), bins, F, lay.bin, lay.frame, false, name);
  return F;
}

int64_t resolve_length(std::optional<int64_t> length, int64_t F, int hop) {
  if (!length) return istft_default_length(F, hop);
  if (*length < 0 || *length > kMaxSpectrogramValues)
    throw Error(Status::InvalidArgument, "length must be in [0, 2^28], got " + std::to_string(*length));
  return *length;
}

// The pseudo-inverse costs milliseconds; callers pass the same filterbank again and again
// (often one frame at a time), so the last few are kept, keyed by their exact contents.
std::shared_ptr<const MelInverse> cached_mel_inverse(const float* fb, int n_mels, int bins) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t(n_mels) << 32 | uint32_t(bins));
  const auto* bytes = reinterpret_cast<const unsigned char*>(fb);
  for (size_t i = 0; i < sizeof(float) * size_t(n_mels) * bins; ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  static std::mutex mu;
  static std::vector<std::pair<uint64_t, std::shared_ptr<const MelInverse>>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& e : cache)
      if (e.first == h && e.second->n_mels() == n_mels && e.second->n_bins() == bins) return e.second;
  }
  auto inv = std::make_shared<const MelInverse>(fb, n_mels, bins);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= 8) cache.erase(cache.begin());
  cache.emplace_back(h, inv);
  return inv;
}

farray vec_to_array(std::vector<float>&& v) {
  farray out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// Synthesizers by settings: building one (mel pseudo-inverse, FFT plans) costs milliseconds,
// rendering a one-shot far less. Shared and immutable, so any thread may render with one.
std::shared_ptr<const Synthesizer> cached_synthesizer(const FeatureSettings& s) {
  static std::mutex mu;
  static std::map<std::tuple<double, int, int, int, double, double, float>,
                  std::shared_ptr<const Synthesizer>> cache;
  const auto key = std::make_tuple(s.sample_rate, s.n_fft, s.hop, s.n_mels, s.fmin, s.fmax,
                                   s.log_floor);
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto synth = std::make_shared<const Synthesizer>(s);  // throws for invalid settings
  if (cache.size() >= 16) cache.clear();
  cache.emplace(key, synth);
  return synth;
}

}  // namespace

// A [n_mels, frames] input and a [n_mels, bins] filterbank that agree; the filterbank checked.
static void check_mel_and_fb(const farray& mel, const farray& fb, const char* what) {
  require_ndim(mel, 2, what);
  require_ndim(fb, 2, "filterbank");
  if (mel.shape(0) != fb.shape(0))
    throw Error(Status::ShapeMismatch, std::string(what) + " has " + std::to_string(mel.shape(0)) +
                                           " rows but the filterbank has " +
                                           std::to_string(fb.shape(0)) + " filters");
  validate_spectrogram(fb.data(), fb.shape(0), fb.shape(1), fb.shape(1), 1, false, "filterbank");
}

// mel magnitudes [n_mels, F] -> linear [bins, F] through the (cached) inverse of fb.
static farray mel_inverse_apply(const float* mel, int64_t F, const farray& fb) {
  const int n_mels = static_cast<int>(fb.shape(0)), bins = static_cast<int>(fb.shape(1));
  farray out({static_cast<py::ssize_t>(bins), static_cast<py::ssize_t>(F)});
  float* o = out.mutable_data();
  const float* f = fb.data();
  {
    py::gil_scoped_release nogil;
    cached_mel_inverse(f, n_mels, bins)->apply(mel, F, o);
  }
  return out;
}

void bind_model(py::module_& m);  // model_bindings.cpp
void bind_engine(py::module_& m);  // engine_bindings.cpp

PYBIND11_MODULE(_core, m) {
  m.doc() = "FoleyKit native DSP core";
  static py::exception<Error> dsp_error(m, "DSPError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::set_error(dsp_error, e.what());
    }
  });

  m.def("version", []() { return std::string(fk::kVersion); });
  m.def("fft_lanes", &fft_lanes, "Frames per SIMD FFT batch in this build.");
  m.def("fft_scratch_fallbacks", &fft_scratch_fallbacks);

  m.def(
      "stft",
      [](farray x, int n_fft, int hop) {
        require_ndim(x, 1, "signal");
        validate_fft_params(n_fft, hop);
        const int64_t n = x.shape(0);
        require_finite(x.data(), n, "signal");
        auto plan = get_stft_plan(n_fft, hop);
        const int64_t F = stft_frames(n, hop);
        // Frame-major underneath, returned as its [bins, frames] transpose (like torch.stft).
        py::array_t<std::complex<float>> out({static_cast<py::ssize_t>(F), static_cast<py::ssize_t>(plan->bins())});
        {
          py::gil_scoped_release nogil;
          plan->stft(x.data(), n, out.mutable_data());
        }
        return py::array(out.attr("T"));
      },
      py::arg("x"), py::arg("n_fft") = 1024, py::arg("hop") = 256);

  m.def(
      "istft",
      [](cspec S, int n_fft, int hop, std::optional<int64_t> length) {
        require_ndim(S, 2, "spectrogram");
        validate_fft_params(n_fft, hop);
        const int64_t bins = S.shape(0), F = S.shape(1);
        if (bins != n_fft / 2 + 1)
          throw Error(Status::ShapeMismatch, "spectrogram has " + std::to_string(bins) +
                                                 " bins but n_fft " + std::to_string(n_fft) +
                                                 " needs " + std::to_string(n_fft / 2 + 1));
        if (F < 1) throw Error(Status::Empty, "spectrogram has zero frames");
        const SpecLayout lay = layout_of(S);
        const bool fm = lay.bin == 1, contiguous = fm || lay.frame == 1;
        // Real and imaginary parts as a float spectrogram of 2*bins rows (or 2*frames columns).
        const int64_t rows = fm ? 2 * bins : bins, cols = fm ? F : 2 * F;
        if (contiguous && rows * cols > kMaxSpectrogramValues)
          throw Error(Status::InvalidArgument, "spectrogram is too large (" + std::to_string(rows) +
                                                   " x " + std::to_string(cols) + " values)");
        const int64_t len = resolve_length(length, F, hop);
        auto plan = get_stft_plan(n_fft, hop);
        farray y(static_cast<py::ssize_t>(len));
        bool finite;
        {
          py::gil_scoped_release nogil;
          // NaN and Inf are looked for while the transform reads S: one pass over it, not two.
          finite = plan->istft_checked(S.data(), lay, F, y.mutable_data(), len);
        }
        if (!finite) {  // find and name the first offender
          if (contiguous) {
            validate_spectrogram(reinterpret_cast<const float*>(S.data()), rows, cols,
                                 fm ? 1 : 2 * lay.bin, fm ? 2 * lay.frame : 1, true, "spectrogram");
          } else {
            for (int64_t k = 0; k < bins; ++k)
              for (int64_t t = 0; t < F; ++t) {
                const std::complex<float> v = S.data()[k * lay.bin + t * lay.frame];
                if (!std::isfinite(v.real()) || !std::isfinite(v.imag()))
                  throw Error(Status::NonFinite, "spectrogram contains NaN or Inf at (bin " +
                                                     std::to_string(k) + ", frame " +
                                                     std::to_string(t) + ")");
              }
          }
          throw Error(Status::NonFinite, "spectrogram contains NaN or Inf");
        }
        return y;
      },
      py::arg("S"), py::arg("n_fft") = 1024, py::arg("hop") = 256, py::arg("length") = py::none());

  m.def(
      "mel_filterbank",
      [](double sr, int n_fft, int n_mels, double fmin, std::optional<double> fmax) {
        auto fb = mel_filterbank(sr, n_fft, n_mels, fmin, fmax ? *fmax : 0.0);
        if (fmax && *fmax <= 0.0) throw Error(Status::InvalidArgument, "fmax must be positive");
        farray out({static_cast<py::ssize_t>(n_mels), static_cast<py::ssize_t>(n_fft / 2 + 1)});
        std::copy(fb.begin(), fb.end(), out.mutable_data());
        return out;
      },
      py::arg("sr"), py::arg("n_fft"), py::arg("n_mels"), py::arg("fmin") = 0.0,
      py::arg("fmax") = py::none());

  m.def(
      "mel_to_linear",
      [](farray mel, farray fb) {
        check_mel_and_fb(mel, fb, "mel spectrogram");
        validate_spectrogram(mel.data(), fb.shape(0), mel.shape(1), mel.shape(1), 1, false,
                             "mel spectrogram");
        return mel_inverse_apply(mel.data(), mel.shape(1), fb);
      },
      py::arg("mel_mag"), py::arg("fb"));

  m.def(
      "log_mel_to_linear",
      [](farray log_mel, farray fb) {
        // What the engine and fk_stream_push do to a model's frames, the same operations in the
        // same order (std::exp per value, then the mel inverse), so a Python stream plays the
        // same samples bit for bit: RTPGHI's onset refinement can grow a 1-ulp difference in
        // an input magnitude (numpy's vector exp) into a few 1e-5 in the output.
        check_mel_and_fb(log_mel, fb, "log-mel spectrogram");
        const int64_t n_mels = fb.shape(0), F = log_mel.shape(1);
        validate_spectrogram(log_mel.data(), n_mels, F, F, 1, true, "log-mel spectrogram");
        std::vector<float> mel(static_cast<size_t>(n_mels) * F);
        for (int64_t i = 0; i < n_mels * F; ++i) {
          const float v = log_mel.data()[i];
          if (v > 80.0f)
            throw Error(Status::InvalidArgument, "log-mel value " + std::to_string(v) +
                                                     " is implausibly large (limit 80)");
          mel[static_cast<size_t>(i)] = std::exp(v);
        }
        return mel_inverse_apply(mel.data(), F, fb);
      },
      py::arg("log_mel"), py::arg("fb"),
      "exp of a log-mel spectrogram [n_mels, frames], then the mel inverse: exactly the engine's "
      "and fk_stream_push's arithmetic.");

  m.def(
      "log_mel",
      [](farray x, double sr, int n_fft, int hop, int n_mels, double fmin,
         std::optional<double> fmax, float log_floor) {
        require_ndim(x, 1, "signal");
        validate_fft_params(n_fft, hop);
        require_finite(x.data(), x.shape(0), "signal");
        if (!(log_floor > 0.0f)) throw Error(Status::InvalidArgument, "log_floor must be positive");
        auto fb = mel_filterbank(sr, n_fft, n_mels, fmin, fmax ? *fmax : 0.0);
        auto plan = get_stft_plan(n_fft, hop);
        int64_t F = 0;
        std::vector<float> out;
        {
          py::gil_scoped_release nogil;
          out = fk::dsp::log_mel(*plan, fb.data(), n_mels, x.data(), x.shape(0), log_floor, &F);
        }
        farray a({static_cast<py::ssize_t>(n_mels), static_cast<py::ssize_t>(F)});
        std::copy(out.begin(), out.end(), a.mutable_data());
        return a;
      },
      py::arg("x"), py::arg("sr") = 48000.0, py::arg("n_fft") = 1024, py::arg("hop") = 256,
      py::arg("n_mels") = 80, py::arg("fmin") = 0.0, py::arg("fmax") = py::none(),
      py::arg("log_floor") = 1e-5f);

  m.def(
      "griffin_lim",
      [](fspec mag, int n_iter, float momentum, int n_fft, int hop,
         std::optional<int64_t> length, const std::string& init, uint64_t seed) {
        validate_fft_params(n_fft, hop);
        const int64_t F = check_mag(mag, n_fft);
        if (n_iter < 0 || n_iter > 10000)
          throw Error(Status::InvalidArgument, "n_iter must be in [0, 10000], got " + std::to_string(n_iter));
        if (!(momentum >= 0.0f && momentum <= 1.5f))
          throw Error(Status::InvalidArgument, "momentum must be in [0, 1.5], got " + std::to_string(momentum));
        GlInit gi;
        if (init == "random") gi = GlInit::Random;
        else if (init == "pghi") gi = GlInit::Pghi;
        else throw Error(Status::InvalidArgument, "init must be 'random' or 'pghi', got '" + init + "'");
        const int64_t len = resolve_length(length, F, hop);
        auto plan = get_stft_plan(n_fft, hop);
        farray y(static_cast<py::ssize_t>(len));
        {
          py::gil_scoped_release nogil;
          fk::dsp::griffin_lim(*plan, mag.data(), layout_of(mag), F, n_iter, momentum, gi, seed,
                               y.mutable_data(), len);
        }
        return y;
      },
      py::arg("mag"), py::arg("n_iter") = 32, py::arg("momentum") = 0.99f, py::arg("n_fft") = 1024,
      py::arg("hop") = 256, py::arg("length") = py::none(), py::arg("init") = "random",
      py::arg("seed") = 0);

  m.def(
      "pghi",
      [](fspec mag, int n_fft, int hop, std::optional<int64_t> length) {
        validate_fft_params(n_fft, hop);
        const int64_t F = check_mag(mag, n_fft);
        const int64_t len = resolve_length(length, F, hop);
        auto plan = get_stft_plan(n_fft, hop);
        std::vector<float> y;
        {
          py::gil_scoped_release nogil;
          y = pghi_synthesize(*plan, mag.data(), layout_of(mag), F, len);
        }
        return vec_to_array(std::move(y));
      },
      py::arg("mag"), py::arg("n_fft") = 1024, py::arg("hop") = 256, py::arg("length") = py::none());

  m.def(
      "pghi_phase",
      [](fspec mag, int n_fft, int hop) {
        validate_fft_params(n_fft, hop);
        const int64_t F = check_mag(mag, n_fft);
        auto plan = get_stft_plan(n_fft, hop);
        farray P({static_cast<py::ssize_t>(F), static_cast<py::ssize_t>(plan->bins())});
        {
          py::gil_scoped_release nogil;
          pghi_phase(*plan, mag.data(), layout_of(mag), F, kPghiTolerance, 0, P.mutable_data());
        }
        return P;
      },
      "Offline PGHI phases [frames, bins], window-centred convention (diagnostics).",
      py::arg("mag"), py::arg("n_fft") = 1024, py::arg("hop") = 256);

  m.def(
      "spectral_convergence",
      [](fspec mag, farray y, int n_fft, int hop) {
        validate_fft_params(n_fft, hop);
        const int64_t F = check_mag(mag, n_fft);
        require_ndim(y, 1, "signal");
        require_finite(y.data(), y.shape(0), "signal");
        auto plan = get_stft_plan(n_fft, hop);
        if (y.shape(0) <= n_fft / 2)
          throw Error(Status::InvalidArgument, "signal is too short for n_fft");
        py::gil_scoped_release nogil;
        return spectral_convergence_db(*plan, mag.data(), layout_of(mag), F, y.data(), y.shape(0));
      },
      py::arg("mag"), py::arg("y"), py::arg("n_fft") = 1024, py::arg("hop") = 256);

  m.def(
      "synthesize",
      [](fspec spec, const std::string& kind, const std::string& method, double sr, int n_fft,
         int hop, int n_mels, double fmin, std::optional<double> fmax, int n_iter, uint64_t seed,
         std::optional<int64_t> length) {
        require_ndim(spec, 2, "spectrogram");
        SpecKind k;
        if (kind == "linear") k = SpecKind::LinearMagnitude;
        else if (kind == "mel") k = SpecKind::MelMagnitude;
        else if (kind == "log_mel") k = SpecKind::LogMel;
        else throw Error(Status::InvalidArgument, "kind must be 'linear', 'mel' or 'log_mel', got '" + kind + "'");
        PhaseMethod pm;
        if (method == "pghi") pm = PhaseMethod::Pghi;
        else if (method == "griffin_lim") pm = PhaseMethod::GriffinLim;
        else if (method == "pghi_griffin_lim") pm = PhaseMethod::PghiGriffinLim;
        else if (method == "random") pm = PhaseMethod::Random;
        else throw Error(Status::InvalidArgument,
                         "method must be 'pghi', 'griffin_lim', 'pghi_griffin_lim' or 'random', got '" + method + "'");
        FeatureSettings s;
        s.sample_rate = sr;
        s.n_fft = n_fft;
        s.hop = hop;
        s.n_mels = n_mels;
        s.fmin = fmin;
        s.fmax = fmax ? *fmax : 0.0;
        const std::shared_ptr<const Synthesizer> shared = cached_synthesizer(s);
        const Synthesizer& synth = *shared;
        const int64_t F = spec.shape(1);
        const int64_t len = length ? resolve_length(length, F, hop) : -1;
        std::vector<float> y;
        {
          py::gil_scoped_release nogil;
          const SpecLayout lay = layout_of(spec);
          y = synth.synthesize(spec.data(), spec.shape(0), F, lay.bin, lay.frame, k, pm, n_iter, seed, len);
        }
        return vec_to_array(std::move(y));
      },
      py::arg("spec"), py::arg("kind") = "log_mel", py::arg("method") = "pghi",
      py::arg("sr") = 48000.0, py::arg("n_fft") = 1024, py::arg("hop") = 256, py::arg("n_mels") = 80,
      py::arg("fmin") = 0.0, py::arg("fmax") = py::none(), py::arg("n_iter") = 8,
      py::arg("seed") = 0, py::arg("length") = py::none());

  py::class_<StreamingSynth>(m, "StreamingSynth")
      .def(py::init([](int n_fft, int hop, const std::string& method, uint64_t seed) {
             StreamMethod sm;
             if (method == "rtpghi") sm = StreamMethod::Rtpghi;
             else if (method == "random") sm = StreamMethod::Random;
             else throw Error(Status::InvalidArgument, "method must be 'rtpghi' or 'random', got '" + method + "'");
             return new StreamingSynth(n_fft, hop, sm, seed);
           }),
           py::arg("n_fft") = 1024, py::arg("hop") = 256, py::arg("method") = "rtpghi",
           py::arg("seed") = 0)
      .def(
          "push",
          [](StreamingSynth& s, fspec mag) {
            // One frame (bins,) or several (bins, frames). Called once per frame by some
            // hosts, so the per-call overhead matters: no reshape, no slicing; the samples go
            // to a per-thread scratch first and then into an array of exactly their length.
            if (mag.ndim() != 1) require_ndim(mag, 2, "magnitude frames");
            if (mag.shape(0) != s.bins())
              throw Error(Status::ShapeMismatch, "magnitude frames have " + std::to_string(mag.shape(0)) +
                                                     " bins but n_fft " + std::to_string(s.n_fft()) +
                                                     " needs " + std::to_string(s.bins()));
            const auto item = static_cast<int64_t>(mag.itemsize());
            const int64_t F = mag.ndim() == 1 ? 1 : mag.shape(1);
            const int64_t bin_stride = mag.strides(0) / item;
            const int64_t frame_stride = mag.ndim() == 1 ? 0 : mag.strides(1) / item;
            thread_local std::vector<float> scratch;
            const int64_t cap = s.max_push_output(F);
            if (static_cast<int64_t>(scratch.size()) < cap) scratch.resize(static_cast<size_t>(cap));
            int64_t written = 0;
            Status st;
            {
              py::gil_scoped_release nogil;
              st = s.push(mag.data(), F, bin_stride, frame_stride, scratch.data(), cap, &written);
            }
            if (st == Status::NonFinite) throw Error(st, "magnitude frames contain NaN or Inf");
            if (st == Status::NegativeMagnitude) throw Error(st, "magnitude frames contain a negative value");
            if (st != Status::Ok) throw Error(st, "push failed");
            farray out(static_cast<py::ssize_t>(written));
            std::copy(scratch.data(), scratch.data() + written, out.mutable_data());
            return out;
          },
          py::arg("mag_frames"))
      .def("flush",
           [](StreamingSynth& s) {
             farray out(static_cast<py::ssize_t>(s.max_flush_output()));
             int64_t written = 0;
             s.flush(out.mutable_data(), out.shape(0), &written);
             return farray(out[py::slice(0, written, 1)]);
           })
      .def("reset", &StreamingSynth::reset)
      .def_property_readonly("n_fft", &StreamingSynth::n_fft)
      .def_property_readonly("hop", &StreamingSynth::hop)
      .def_property_readonly("frames_pushed", &StreamingSynth::frames_pushed)
      .def_property_readonly("method", [](const StreamingSynth& s) {
        return s.method() == StreamMethod::Rtpghi ? "rtpghi" : "random";
      });

  bind_model(m);
  bind_engine(m);
}

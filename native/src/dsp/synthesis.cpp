#include "dsp/synthesis.hpp"

#include <cmath>
#include <limits>
#include <cstdlib>
#include <string>

#include "dsp/griffin_lim.hpp"
#include "dsp/phase_gradient.hpp"
#include "dsp/pghi.hpp"

namespace fk::dsp {

namespace {
// exp(80) is 5.5e34: a log-mel value above that is a broken model, not a loud sound.
constexpr float kMaxLogMel = 80.0f;
}  // namespace

void validate_spectrogram(const float* data, int64_t rows, int64_t frames, int64_t row_stride,
                          int64_t frame_stride, bool allow_negative, const char* what) {
  if (!data) throw Error(Status::InvalidArgument, std::string(what) + " is null");
  if (frames < 1) throw Error(Status::Empty, std::string(what) + " has zero frames");
  if (rows < 1) throw Error(Status::Empty, std::string(what) + " has zero rows");
  if (rows * frames > kMaxSpectrogramValues)
    throw Error(Status::InvalidArgument, std::string(what) + " is too large (" +
                                             std::to_string(rows) + " x " +
                                             std::to_string(frames) + " values)");
  // Walk in memory order (the smaller stride innermost): this runs on every call.
  const bool rows_inner = std::llabs(row_stride) <= std::llabs(frame_stride);
  const int64_t outer = rows_inner ? frames : rows, inner = rows_inner ? rows : frames;
  const int64_t so = rows_inner ? frame_stride : row_stride, si = rows_inner ? row_stride : frame_stride;
  for (int64_t o = 0; o < outer; ++o) {
    const float* p = data + o * so;
    // Branch-free so it vectorises: !(|v| <= FLT_MAX) is true for NaN and Inf.
    int bad = 0;
    const float lo = allow_negative ? -std::numeric_limits<float>::infinity() : 0.0f;
    for (int64_t i = 0; i < inner; ++i) {
      const float v = p[i * si];
      bad |= static_cast<int>(!(std::fabs(v) <= std::numeric_limits<float>::max())) |
             static_cast<int>(v < lo);
    }
    if (!bad) continue;
    for (int64_t i = 0; i < inner; ++i) {  // name the first offender
      const float v = p[i * si];
      const int64_t r = rows_inner ? i : o, t = rows_inner ? o : i;
      if (!std::isfinite(v))
        throw Error(Status::NonFinite, std::string(what) + " contains " +
                                           (std::isnan(v) ? "NaN" : "Inf") + " at (row " +
                                           std::to_string(r) + ", frame " + std::to_string(t) + ")");
      if (!allow_negative && v < 0.0f)
        throw Error(Status::NegativeMagnitude,
                    std::string(what) + " has a negative magnitude " + std::to_string(v) +
                        " at (row " + std::to_string(r) + ", frame " + std::to_string(t) + ")");
    }
  }
}

void validate_settings(const FeatureSettings& s) {
  validate_fft_params(s.n_fft, s.hop);
  if (!(s.log_floor > 0.0f) || !std::isfinite(s.log_floor))
    throw Error(Status::InvalidArgument, "log_floor must be a positive number");
  if (!std::isfinite(s.sample_rate) || s.sample_rate < 1000.0 || s.sample_rate > 384000.0)
    throw Error(Status::InvalidArgument,
                "sample rate must be in [1000, 384000] Hz, got " + std::to_string(s.sample_rate));
  if (s.n_mels < 1 || s.n_mels > 1024)
    throw Error(Status::InvalidArgument, "n_mels must be in [1, 1024], got " + std::to_string(s.n_mels));
  const double fmax = s.fmax > 0.0 ? s.fmax : s.sample_rate / 2.0;
  if (!std::isfinite(s.fmin) || !std::isfinite(s.fmax) || s.fmin < 0.0 || fmax <= s.fmin ||
      fmax > s.sample_rate / 2.0 + 1e-6)
    throw Error(Status::InvalidArgument, "need 0 <= fmin < fmax <= sample_rate/2, got fmin " +
                                             std::to_string(s.fmin) + ", fmax " + std::to_string(s.fmax));
}

Synthesizer::Synthesizer(const FeatureSettings& s) : settings_(s) {
  validate_settings(s);
  if (settings_.fmax <= 0.0) settings_.fmax = s.sample_rate / 2.0;
  plan_ = get_stft_plan(s.n_fft, s.hop);
  fb_ = mel_filterbank(s.sample_rate, s.n_fft, s.n_mels, s.fmin, settings_.fmax);
  inverse_ = std::make_unique<MelInverse>(fb_.data(), s.n_mels, plan_->bins());
}

std::vector<float> Synthesizer::to_linear(const float* spec, int64_t rows, int64_t F,
                                          int64_t rs, int64_t fs, SpecKind kind) const {
  const int nb = plan_->bins();
  const int64_t want = kind == SpecKind::LinearMagnitude ? nb : settings_.n_mels;
  const char* name = kind == SpecKind::LinearMagnitude ? "magnitude spectrogram"
                     : kind == SpecKind::MelMagnitude  ? "mel spectrogram"
                                                       : "log-mel spectrogram";
  if (rows != want)
    throw Error(Status::ShapeMismatch,
                std::string(name) + " has " + std::to_string(rows) + " rows but the settings need " +
                    std::to_string(want) +
                    (kind == SpecKind::LinearMagnitude ? " (n_fft/2+1)" : " (n_mels)"));
  validate_spectrogram(spec, rows, F, rs, fs, kind == SpecKind::LogMel, name);
  std::vector<float> in(static_cast<size_t>(rows) * F);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < F; ++t) {
      float v = spec[r * rs + t * fs];
      if (kind == SpecKind::LogMel) {
        if (v > kMaxLogMel)
          throw Error(Status::InvalidArgument,
                      "log-mel value " + std::to_string(v) + " at (row " + std::to_string(r) +
                          ", frame " + std::to_string(t) + ") is implausibly large (limit 80)");
        v = std::exp(v);
      }
      in[r * F + t] = v;
    }
  if (kind == SpecKind::LinearMagnitude) return in;
  std::vector<float> lin(static_cast<size_t>(nb) * F);
  inverse_->apply(in.data(), F, lin.data());
  return lin;
}

std::vector<float> pghi_synthesize(const StftPlan& plan, const float* mag, SpecLayout lay,
                                   int64_t F, int64_t length, uint64_t seed) {
  std::vector<float> P(static_cast<size_t>(F) * plan.bins());
  pghi_phase(plan, mag, lay, F, kPghiTolerance, seed, P.data());
  std::vector<cfloat> S(P.size());
  apply_phase(plan, mag, lay, P.data(), F, S.data());
  std::vector<float> y(static_cast<size_t>(length));
  plan.istft(S.data(), SpecLayout::frame_major(plan.bins()), F, y.data(), length,
             EnvelopeFloor::Synthesis);
  return y;
}

std::vector<float> Synthesizer::synthesize(const float* spec, int64_t rows, int64_t F, int64_t rs,
                                           int64_t fs, SpecKind kind, PhaseMethod method,
                                           int n_iter, uint64_t seed, int64_t length) const {
  if (n_iter < 0 || n_iter > 10000)
    throw Error(Status::InvalidArgument, "n_iter must be in [0, 10000], got " + std::to_string(n_iter));
  std::vector<float> lin = to_linear(spec, rows, F, rs, fs, kind);
  if (length < 0) length = istft_default_length(F, plan_->hop());
  const StftPlan& plan = *plan_;
  const SpecLayout lay = SpecLayout::bin_major(F);
  switch (method) {
    case PhaseMethod::Pghi:
      return pghi_synthesize(plan, lin.data(), lay, F, length, seed);
    case PhaseMethod::Random: {
      const int nb = plan.bins();
      std::vector<float> P(lin.size());
      for (int64_t t = 0; t < F; ++t)
        for (int m = 0; m < nb; ++m) P[t * nb + m] = hashed_phase(seed, t, m);
      std::vector<cfloat> S(lin.size());
      apply_phase(plan, lin.data(), lay, P.data(), F, S.data());
      std::vector<float> y(static_cast<size_t>(length));
      plan.istft(S.data(), SpecLayout::frame_major(nb), F, y.data(), length,
                 EnvelopeFloor::Synthesis);
      return y;
    }
    case PhaseMethod::GriffinLim:
    case PhaseMethod::PghiGriffinLim: {
      std::vector<float> y(static_cast<size_t>(length));
      griffin_lim(plan, lin.data(), lay, F, n_iter, 0.99f,
                  method == PhaseMethod::GriffinLim ? GlInit::Random : GlInit::Pghi, seed, y.data(),
                  length);
      return y;
    }
  }
  throw Error(Status::InvalidArgument, "unknown phase method");
}

}  // namespace fk::dsp

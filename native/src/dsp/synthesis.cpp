#include "dsp/synthesis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
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

namespace {
struct SynthSizes {
  size_t in, lin, y_full, group, scratch;
  SynthSizes(const Synthesizer& s, int64_t n_frames) {
    const StftPlan& plan = s.plan();
    const size_t F = static_cast<size_t>(n_frames), nb = static_cast<size_t>(plan.bins());
    in = static_cast<size_t>(s.settings().n_mels) * F;
    lin = nb * F;
    y_full = static_cast<size_t>(plan.n_fft()) + static_cast<size_t>(plan.hop()) * (F - 1);
    group = static_cast<size_t>(plan.n_fft()) * fft_lanes();
    scratch = plan.fft().scratch_bytes() / sizeof(float) + 16;
  }
};
}  // namespace

// Buffers only grow: one workspace serves every model a worker renders.
void SynthWorkspace::reserve(const Synthesizer& s, int64_t n_frames) {
  if (fits(s, n_frames)) return;
  const SynthSizes z(s, n_frames);
  grow(in_, z.in);
  grow(lin_, z.lin);
  grow(phase_, z.lin);
  grow(y_full_, z.y_full);
  grow(group_, z.group);
  grow(fft_scratch_, z.scratch);
  pghi_.reserve(s.plan(), n_frames);
}

bool SynthWorkspace::fits(const Synthesizer& s, int64_t n_frames) const {
  if (n_frames < 1) return false;
  const SynthSizes z(s, n_frames);
  return in_.size() >= z.in && lin_.size() >= z.lin && phase_.size() >= z.lin &&
         y_full_.size() >= z.y_full && group_.size() >= z.group &&
         fft_scratch_.size() >= z.scratch && pghi_.fits(s.plan(), n_frames);
}

namespace {

// apply_phase followed by StftPlan::istft(EnvelopeFloor::Synthesis), fused: each group of
// fft_lanes() frames is built straight in the FFT's interleaved half-complex layout (bin-major
// magnitudes already hold a bin's lanes side by side), so the complex spectrogram is never
// stored. The same products, transforms, overlap-add and normalisation, so the same samples.
// In pieces: add_groups(g0, g1) synthesises groups [g0, g1) in order, and finish(k0, k1)
// normalises output samples [k0, k1) once every frame that reaches them is in. Any split
// gives the same samples as one pass (each sample sums the same frames in the same order).
class PhaseToSignal {
 public:
  PhaseToSignal(const StftPlan& plan, const float* mag, int64_t F, const float* P, int64_t length,
                float* out, float* y_full, float* work, void* fft_scratch, size_t fft_scratch_bytes)
      : plan_(plan), mag_(mag), F_(F), P_(P), length_(length), out_(out), y_full_(y_full),
        work_(work), scratch_(fft_scratch), scratch_bytes_(fft_scratch_bytes) {
    total_ = plan.n_fft() + int64_t(plan.hop()) * (F - 1);
    ncopy_ = std::min(length, std::max<int64_t>(0, total_ - plan.n_fft() / 2));
    std::fill(y_full, y_full + total_, 0.0f);
  }
  int64_t groups() const { return plan_.groups(F_); }
  // Output samples that groups [0, g) complete: frames from g * lanes on start later.
  int64_t final_after(int64_t g) const {
    if (g >= groups()) return length_;
    return std::max<int64_t>(0, std::min(ncopy_, g * kFftLanes * plan_.hop() - plan_.n_fft() / 2));
  }
  void add_groups(int64_t g0, int64_t g1);
  // Normalises output samples [k0, k1) (zeros past the signal).
  void finish(int64_t k0, int64_t k1) {
    const int pad = plan_.n_fft() / 2;
    const int64_t c1 = std::min(k1, ncopy_);
    if (c1 > k0) plan_.normalise_into(y_full_, F_, EnvelopeFloor::Synthesis, pad + k0, c1 - k0, out_ + k0);
    for (int64_t j = std::max(k0, std::max<int64_t>(ncopy_, 0)); j < k1; ++j) out_[j] = 0.0f;
  }

 private:
  const StftPlan& plan_;
  const float* mag_;
  int64_t F_;
  const float* P_;
  int64_t length_, total_ = 0, ncopy_ = 0;
  float* out_;
  float* y_full_;
  float* work_;
  void* scratch_;
  size_t scratch_bytes_;
};

void PhaseToSignal::add_groups(int64_t g0, int64_t g1) {
  constexpr int L = kFftLanes;
  const int n_fft = plan_.n_fft(), nb = plan_.bins();
  const float* mag = mag_;
  float* work = work_;
  const int64_t F = F_;
  ScratchScope scope(scratch_, scratch_bytes_);
  for (int64_t g = g0; g < g1; ++g) {
    const int64_t t0 = g * L;
    const int lanes = static_cast<int>(std::min<int64_t>(L, F - t0));
    const float* pt = P_ + t0 * nb;
    if (lanes == L) {
      for (int m = 0; m < nb; ++m) {
        const float* mrow = mag + m * F + t0;
        float re[L], im[L];
        for (int l = 0; l < L; ++l) {
          float sn, cs;
          sincos_wrapped(pt[l * nb + m], &sn, &cs);
          // (-1)^m: centred -> frame-start convention
          const float a = (m & 1) ? -mrow[l] : mrow[l];
          re[l] = a * cs;
          im[l] = a * sn;
        }
        float* dst = m == 0 ? work : m == nb - 1 ? work + (n_fft - 1) * L : work + (2 * m - 1) * L;
        for (int l = 0; l < L; ++l) dst[l] = re[l];
        if (m > 0 && m < nb - 1)
          for (int l = 0; l < L; ++l) dst[L + l] = im[l];
      }
    } else {
      std::fill(work, work + static_cast<size_t>(n_fft) * L, 0.0f);
      for (int m = 0; m < nb; ++m) {
        const float* mrow = mag + m * F + t0;
        float* dst = m == 0 ? work : m == nb - 1 ? work + (n_fft - 1) * L : work + (2 * m - 1) * L;
        for (int l = 0; l < lanes; ++l) {
          float sn, cs;
          sincos_wrapped(pt[l * nb + m], &sn, &cs);
          const float a = (m & 1) ? -mrow[l] : mrow[l];
          dst[l] = a * cs;
          if (m > 0 && m < nb - 1) dst[L + l] = a * sn;
        }
      }
    }
    plan_.synthesise_group(work, F, g, y_full_);
  }
}

const char* spec_name(SpecKind kind) {
  return kind == SpecKind::LinearMagnitude ? "magnitude spectrogram"
         : kind == SpecKind::MelMagnitude  ? "mel spectrogram"
                                           : "log-mel spectrogram";
}

}  // namespace

const float* Synthesizer::linear_into(const float* spec, int64_t rows, int64_t F, int64_t rs,
                                      int64_t fs, SpecKind kind, SynthWorkspace& ws) const {
  const int nb = plan_->bins();
  const int64_t want = kind == SpecKind::LinearMagnitude ? nb : settings_.n_mels;
  const char* name = spec_name(kind);
  if (rows != want)
    throw Error(Status::ShapeMismatch,
                std::string(name) + " has " + std::to_string(rows) + " rows but the settings need " +
                    std::to_string(want) +
                    (kind == SpecKind::LinearMagnitude ? " (n_fft/2+1)" : " (n_mels)"));
  validate_spectrogram(spec, rows, F, rs, fs, kind == SpecKind::LogMel, name);
  // Only the conversion's buffers: to_linear needs no more, render reserves the rest.
  const size_t n_in = static_cast<size_t>(rows) * F, n_lin = static_cast<size_t>(nb) * F;
  grow(ws.lin_, n_lin);
  if (kind != SpecKind::LinearMagnitude) grow(ws.in_, n_in);
  float* in = kind == SpecKind::LinearMagnitude ? ws.lin_.data() : ws.in_.data();
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
  inverse_->apply(in, F, ws.lin_.data());
  return ws.lin_.data();
}

std::vector<float> Synthesizer::to_linear(const float* spec, int64_t rows, int64_t F,
                                          int64_t rs, int64_t fs, SpecKind kind) const {
  SynthWorkspace ws;
  const float* lin = linear_into(spec, rows, F, rs, fs, kind, ws);
  return std::vector<float>(lin, lin + static_cast<size_t>(plan_->bins()) * F);
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

void Synthesizer::render(const float* lin, int64_t F, PhaseMethod method, int n_iter,
                         uint64_t seed, int64_t length, float* out, SynthWorkspace& ws,
                         SynthProgress progress) const {
  const StftPlan& plan = *plan_;
  const SpecLayout lay = SpecLayout::bin_major(F);
  const int nb = plan.bins();
  if (method == PhaseMethod::GriffinLim || method == PhaseMethod::PghiGriffinLim) {
    griffin_lim(plan, lin, lay, F, n_iter, 0.99f,
                method == PhaseMethod::GriffinLim ? GlInit::Random : GlInit::Pghi, seed, out, length);
    return;
  }
  if (method != PhaseMethod::Pghi && method != PhaseMethod::Random)
    throw Error(Status::InvalidArgument, "unknown phase method");
  ws.reserve(*this, F);
  float* P = ws.phase_.data();
  PhaseToSignal sig(plan, lin, F, P, length, out, ws.y_full_.data(), ws.group_.data(),
                    ws.fft_scratch_.data(), ws.fft_scratch_.size() * sizeof(float));
  // Where the caller asked to hear of it, the clip's start is made and reported as soon as
  // PGHI's first block is in, and the rest after: the same samples as in one pass.
  struct Early {
    PhaseToSignal& sig;
    SynthProgress progress;
    int64_t groups = 0, samples = 0;
  } early{sig, progress};
  PghiProgress pghi_progress;
  if (progress.fn) {
    pghi_progress.user = &early;
    pghi_progress.fn = [](void* user, int64_t frames_done) {
      Early& e = *static_cast<Early*>(user);
      if (e.groups > 0) return;  // only the first block
      const int64_t g = frames_done / kFftLanes;  // whole groups only: lanes stay full
      const int64_t k = e.sig.final_after(g);
      if (g <= 0 || k <= 0 || g >= e.sig.groups()) return;
      e.sig.add_groups(0, g);
      e.sig.finish(0, k);
      e.groups = g;
      e.samples = k;
      e.progress.fn(e.progress.user, k);
    };
  }
  if (method == PhaseMethod::Pghi) {
    pghi_phase(plan, lin, lay, F, kPghiTolerance, seed, P, ws.pghi_, pghi_progress);
  } else {
    for (int64_t t = 0; t < F; ++t)
      for (int m = 0; m < nb; ++m) P[t * nb + m] = hashed_phase(seed, t, m);
  }
  sig.add_groups(early.groups, sig.groups());
  sig.finish(early.samples, length);
}

std::vector<float> Synthesizer::synthesize(const float* spec, int64_t rows, int64_t F, int64_t rs,
                                           int64_t fs, SpecKind kind, PhaseMethod method,
                                           int n_iter, uint64_t seed, int64_t length) const {
  if (n_iter < 0 || n_iter > 10000)
    throw Error(Status::InvalidArgument, "n_iter must be in [0, 10000], got " + std::to_string(n_iter));
  // Callers without a workspace of their own (Python, the C ABI) share one per thread for
  // clips of ordinary length: a fresh one costs about as much as the synthesis itself (a few
  // MB allocated, page-faulted in and freed). Long inputs get a fresh one, so that a thread
  // does not keep their memory.
  constexpr int64_t kCachedFrames = 1024;
  thread_local SynthWorkspace cached;
  SynthWorkspace fresh;
  SynthWorkspace& ws = F <= kCachedFrames ? cached : fresh;
  const float* lin = linear_into(spec, rows, F, rs, fs, kind, ws);
  if (length < 0) length = istft_default_length(F, plan_->hop());
  std::vector<float> y(static_cast<size_t>(length));
  render(lin, F, method, n_iter, seed, length, y.data(), ws);
  return y;
}

void Synthesizer::synthesize_into(const float* spec, int64_t rows, int64_t F, int64_t rs,
                                  int64_t fs, SpecKind kind, PhaseMethod method, int n_iter,
                                  uint64_t seed, int64_t length, float* out,
                                  SynthWorkspace& ws, SynthProgress progress) const {
  if (n_iter < 0 || n_iter > 10000)
    throw Error(Status::InvalidArgument, "n_iter must be in [0, 10000], got " + std::to_string(n_iter));
  if (!out) throw Error(Status::InvalidArgument, "output buffer is null");
  const float* lin = linear_into(spec, rows, F, rs, fs, kind, ws);
  if (length < 0) length = istft_default_length(F, plan_->hop());
  render(lin, F, method, n_iter, seed, length, out, ws, progress);
}

}  // namespace fk::dsp

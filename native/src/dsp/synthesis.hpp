// The hot path in one call: a (log-)mel or linear magnitude spectrogram to a waveform, with a
// chosen phase method. Validation lives here too, shared by Python and the C ABI.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "dsp/error.hpp"
#include "dsp/fft.hpp"
#include "dsp/mel.hpp"
#include "dsp/pghi.hpp"
#include "dsp/stft.hpp"

namespace fk::dsp {

// The spectrogram settings every model carries (DESIGN.md: defaults).
struct FeatureSettings {
  double sample_rate = 48000.0;
  int n_fft = 1024;
  int hop = 256;
  int n_mels = 80;
  double fmin = 0.0;
  double fmax = 0.0;  // 0 means sample_rate / 2
  float log_floor = 1e-5f;
};

enum class SpecKind { LinearMagnitude = 0, MelMagnitude = 1, LogMel = 2 };
enum class PhaseMethod { Pghi = 0, GriffinLim = 1, PghiGriffinLim = 2, Random = 3 };

// Largest spectrogram accepted in one call (bins * frames), about 15 minutes at the defaults.
constexpr int64_t kMaxSpectrogramValues = int64_t(1) << 28;

// Throws fk::Error naming the first NaN/Inf or negative value (negatives allowed for log-mel).
void validate_spectrogram(const float* data, int64_t rows, int64_t frames, int64_t row_stride,
                          int64_t frame_stride, bool allow_negative, const char* what);
void validate_settings(const FeatureSettings& s);

class Synthesizer;

// Told once, during synthesize_into with PGHI, that out[0, samples_final) hold their final
// values while the rest of the clip is still being made (from another thread, those samples
// may be read from then on). A clip too short to split is not reported early.
struct SynthProgress {
  void (*fn)(void* user, int64_t samples_final) = nullptr;
  void* user = nullptr;
};

// Scratch of Synthesizer::synthesize_into, kept between calls so that the engine's workers
// render one-shots without allocating, page-faulting or freeing (a few MB per 128-frame clip
// otherwise). One per thread.
class SynthWorkspace {
 public:
  SynthWorkspace() = default;
  // Room for spectrograms of up to n_frames frames with s's settings; allocates only when
  // that is more than it holds (buffers only grow, so synthesizers with different settings
  // can share one).
  void reserve(const Synthesizer& s, int64_t n_frames);
  // Whether synthesize_into with PGHI or random phase on n_frames frames of s, and an
  // explicit length, runs without allocating.
  bool fits(const Synthesizer& s, int64_t n_frames) const;

 private:
  friend class Synthesizer;

// Told once, during synthesize_into with PGHI, that out[0, samples_final) hold their final
// values while the rest of the clip is still being made (from another thread, those samples
// may be read from then on). A clip too short to split is not reported early.
struct SynthProgress {
  void (*fn)(void* user, int64_t samples_final) = nullptr;
  void* user = nullptr;
};
  std::vector<float> in_, lin_, phase_, y_full_;
  AlignedFloats group_, fft_scratch_;
  PghiWorkspace pghi_;
};

// Immutable after construction; any thread may call synthesize() concurrently.
class Synthesizer {
 public:
  explicit Synthesizer(const FeatureSettings& s);
  const FeatureSettings& settings() const { return settings_; }
  const StftPlan& plan() const { return *plan_; }
  const std::vector<float>& mel_basis() const { return fb_; }

  // spec: rows x n_frames, element (r, t) at spec[r*row_stride + t*frame_stride]; rows is
  // n_fft/2+1 for linear input and n_mels otherwise. Returns hop*(n_frames-1) samples
  // (or `length` if >= 0).
  std::vector<float> synthesize(const float* spec, int64_t rows, int64_t n_frames,
                                int64_t row_stride, int64_t frame_stride, SpecKind kind,
                                PhaseMethod method, int n_iter, uint64_t seed,
                                int64_t length = -1) const;
  // The same into out[0 .. length) (length >= 0, or -1 for the default, which the caller
  // must then have room for), with scratch from ws: no allocation for PGHI and random phase
  // once ws fits the clip (Griffin-Lim still allocates). Same samples as synthesize(), with
  // or without `progress`.
  void synthesize_into(const float* spec, int64_t rows, int64_t n_frames, int64_t row_stride,
                       int64_t frame_stride, SpecKind kind, PhaseMethod method, int n_iter,
                       uint64_t seed, int64_t length, float* out, SynthWorkspace& ws,
                       SynthProgress progress = {}) const;
  // Linear magnitude [bins, frames] from any input kind (validated).
  std::vector<float> to_linear(const float* spec, int64_t rows, int64_t n_frames,
                               int64_t row_stride, int64_t frame_stride, SpecKind kind) const;

 private:
  // Validates and converts spec to linear magnitude, bin-major, in ws (returned pointer).
  const float* linear_into(const float* spec, int64_t rows, int64_t F, int64_t rs, int64_t fs,
                           SpecKind kind, SynthWorkspace& ws) const;
  void render(const float* lin, int64_t F, PhaseMethod method, int n_iter, uint64_t seed,
              int64_t length, float* out, SynthWorkspace& ws, SynthProgress progress = {}) const;

  FeatureSettings settings_;
  std::shared_ptr<const StftPlan> plan_;
  std::vector<float> fb_;
  std::unique_ptr<MelInverse> inverse_;
};

// Offline entry points used by the Python API.
std::vector<float> pghi_synthesize(const StftPlan& plan, const float* mag, SpecLayout lay,
                                   int64_t n_frames, int64_t length, uint64_t seed = 0);
float spectral_convergence_db(const StftPlan& plan, const float* mag, SpecLayout lay,
                              int64_t n_frames, const float* y, int64_t n);

}  // namespace fk::dsp

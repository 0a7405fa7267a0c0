// STFT and inverse STFT: centred frames, reflect padding, periodic Hann, window-sum
// normalised inverse (the conventions of torch.stft/istft with center=True).
//
// Spectrogram layout: frequency-major, S[k * n_frames + t], k < n_fft/2+1, like librosa and
// torch. Internally frames travel in groups of fft_lanes() for SIMD.
#pragma once
#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "dsp/fft.hpp"

namespace fk::dsp {

using cfloat = std::complex<float>;

// Checks n_fft and hop; throws fk::Error naming the bad one.
void validate_fft_params(int n_fft, int hop);

// Frames that stft() makes from n samples: 1 + n / hop.
int64_t stft_frames(int64_t n_samples, int hop);
// Samples that istft() returns when no length is given: hop * (n_frames - 1).
int64_t istft_default_length(int64_t n_frames, int hop);

// Plans and windows for one (n_fft, hop). Immutable, shared between threads.
class StftPlan {
 public:
  StftPlan(int n_fft, int hop);
  int n_fft() const { return n_fft_; }
  int hop() const { return hop_; }
  int bins() const { return n_fft_ / 2 + 1; }
  const RealFFT& fft() const { return fft_; }
  const std::vector<float>& window() const { return window_; }
  // 1 / sum_t w^2[j - t*hop] for j in the interior of a long signal, indexed by j % hop.
  const std::vector<float>& inv_envelope_periodic() const { return inv_env_; }

  // x: n samples (n > n_fft/2 for reflect padding). out: bins * n_frames complex.
  void stft(const float* x, int64_t n, cfloat* out) const;
  // S: bins x n_frames. Writes `length` samples (the centred trim of the overlap-add,
  // zero-padded if length is longer than the signal).
  void istft(const cfloat* S, int64_t n_frames, float* y, int64_t length) const;

  // --- pieces shared with Griffin-Lim (grouped half-complex layout) ---
  // A spectrogram held as groups of lanes frames: group g, half-complex index i, lane l at
  // hc[(g * n_fft + i) * lanes + l].
  int64_t groups(int64_t n_frames) const;
  // Analyse frames t = 0..n_frames-1 of `xp`, frame t starting at xp[t*hop] (no padding here).
  void analyse(const float* xp, int64_t n_frames, float* hc) const;
  // Inverse transform, window and overlap-add all frames into y_full (n_fft + hop*(F-1)
  // samples), then divide by the window envelope. `work` holds n_fft*lanes floats.
  void synthesise(const float* hc, int64_t n_frames, float* y_full, float* work) const;
  void to_hc(const cfloat* S, int64_t n_frames, float* hc) const;
  void from_hc(const float* hc, int64_t n_frames, cfloat* S) const;
  // Divide y_full by the window-sum envelope (zero where the envelope vanishes).
  void normalise_envelope(float* y_full, int64_t n_frames) const;

 private:
  int n_fft_, hop_;
  RealFFT fft_;
  std::vector<float> window_;
  std::vector<float> inv_env_;
};

// Process-wide cache: one plan per (n_fft, hop). Creation is locked; use is lock-free.
std::shared_ptr<const StftPlan> get_stft_plan(int n_fft, int hop);

}  // namespace fk::dsp

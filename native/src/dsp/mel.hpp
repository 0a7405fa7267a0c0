// Slaney mel filterbank (librosa-compatible), its inversion, and the log-mel feature that the
// models learn and the runtime inverts (the one source of truth for the spectrogram).
#pragma once
#include <cstdint>
#include <vector>

#include "dsp/stft.hpp"

namespace fk::dsp {

// [n_mels, n_fft/2+1], row-major; equals librosa.filters.mel(htk=False, norm="slaney").
std::vector<float> mel_filterbank(double sr, int n_fft, int n_mels, double fmin, double fmax);

// Maps mel magnitudes back to linear magnitudes: a ridge-regularised pseudo-inverse of the
// filterbank, computed once, then a clamp at zero. [bins, n_mels] row-major.
class MelInverse {
 public:
  MelInverse(const float* fb, int n_mels, int n_bins);
  int n_mels() const { return n_mels_; }
  int n_bins() const { return n_bins_; }
  // mel: [n_mels, n_frames] frequency-major -> lin: [bins, n_frames].
  void apply(const float* mel, int64_t n_frames, float* lin) const;
  // One frame: mel[n_mels] -> lin[bins]. Allocation-free.
  void apply_frame(const float* mel, float* lin) const;

 private:
  int n_mels_, n_bins_;
  std::vector<float> pinv_;  // [bins, n_mels]
  std::vector<float> pinv_t_;  // the same, [n_mels, bins]
};

// log(max(fb @ |STFT(x)|, floor)): [n_mels, frames].
std::vector<float> log_mel(const StftPlan& plan, const float* fb, int n_mels, const float* x,
                           int64_t n, float log_floor, int64_t* n_frames_out);

}  // namespace fk::dsp

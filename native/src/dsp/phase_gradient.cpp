#include "dsp/phase_gradient.hpp"

#include <algorithm>

namespace fk::dsp {

void time_gradient(const float* logs, int n_bins, int n_fft, int hop, double gamma, float* tgrad) {
  const float mul = static_cast<float>(double(hop) * n_fft / gamma * 0.5);
  // The spectrum is symmetric about DC and Nyquist, so the derivative vanishes there.
  tgrad[0] = 0.0f;
  tgrad[n_bins - 1] = 0.0f;
  for (int m = 1; m < n_bins - 1; ++m) tgrad[m] = mul * (logs[m + 1] - logs[m - 1]);
}

std::vector<float> bin_advance(int n_bins, int n_fft, int hop) {
  std::vector<float> adv(n_bins);
  for (int m = 0; m < n_bins; ++m) {
    const int64_t r = (static_cast<int64_t>(hop) * m) % n_fft;
    adv[m] = wrap_phase(static_cast<float>(2.0 * 3.14159265358979323846 * double(r) / double(n_fft)));
  }
  return adv;
}

void freq_gradient(const float* s_prev, const float* s_next, float span, int n_bins, int n_fft,
                   int hop, double gamma, float* fgrad) {
  const float mul = static_cast<float>(-gamma / (double(hop) * n_fft)) / span;
  for (int m = 0; m < n_bins; ++m) fgrad[m] = mul * (s_next[m] - s_prev[m]);
}

void freq_gradient_backward2(const float* s_t2, const float* s_t1, const float* s_t, int n_bins,
                             int n_fft, int hop, double gamma, float* fgrad) {
  const float mul = static_cast<float>(-gamma / (double(hop) * n_fft)) * 0.5f;
  for (int m = 0; m < n_bins; ++m) fgrad[m] = mul * (3.0f * s_t[m] - 4.0f * s_t1[m] + s_t2[m]);
}

void log_magnitudes(const float* mag, int n, int64_t stride, float* out) {
  for (int i = 0; i < n; ++i) out[i] = std::log(std::max(mag[i * stride], 1e-30f));
}

}  // namespace fk::dsp

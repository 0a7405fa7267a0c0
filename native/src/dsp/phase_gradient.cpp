#include "dsp/phase_gradient.hpp"

#include <algorithm>
#include <cmath>

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
  // The Gaussian model gives -gamma/(a*M) * D, with D the log-magnitude's time derivative
  // per frame. For a Hann window and an impulse at u samples from the frame's centre, the
  // centred difference is exactly D = log|tan(theta + phi)/tan(phi - theta)|-like:
  // tanh(D/2) = tan(theta) * tan(phi), theta = pi*u/M, phi = pi*a/M, and the bin-to-bin phase
  // step is -2*theta. That agrees with the Gaussian slope near D = 0 (stationary sounds) and,
  // unlike it, stays bounded at onsets, where the neighbouring frame is nearly silent and D is
  // huge — the case where the Gaussian estimate wrecks transients.
  (void)gamma;
  const float inv_tan_phi = static_cast<float>(1.0 / std::tan(3.14159265358979323846 * hop / n_fft));
  const float inv_span = 1.0f / span;
  for (int m = 0; m < n_bins; ++m) {
    const float D = (s_next[m] - s_prev[m]) * inv_span;
    const float e = fast_exp_neg(-std::fabs(D));
    const float th = std::copysign((1.0f - e) / (1.0f + e), D);  // tanh(D/2)
    fgrad[m] = -2.0f * fast_atan(th * inv_tan_phi);
  }
}

void freq_gradient_onset(const float* s_prev, const float* s_cur, int n_bins, int n_fft, int hop,
                         float* fgrad) {
  const double phi = 3.14159265358979323846 * hop / n_fft;
  const float cos_phi = static_cast<float>(std::cos(phi));
  const float inv_sin_phi = static_cast<float>(1.0 / std::sin(phi));
  for (int m = 0; m < n_bins; ++m) {
    const float x = -0.5f * (s_cur[m] - s_prev[m]);
    const float e = fast_exp_neg(-std::fabs(x));
    const float ex = x <= 0.0f ? e : 1.0f / e;  // e^x either side of 0, branch-free
    fgrad[m] = -2.0f * fast_atan((cos_phi - ex) * inv_sin_phi);
  }
}

void log_magnitudes(const float* mag, int n, int64_t stride, float* out) {
  for (int i = 0; i < n; ++i) out[i] = fast_log(std::max(mag[i * stride], 1e-30f));
}

}  // namespace fk::dsp

namespace fk::dsp {

namespace {
// log |W(x)| / |W(0)| of a Hann window's kernel at an offset of x bins.
inline float hann_kernel_log(float x) {
  const float ax = std::fabs(x);
  if (ax < 1e-4f) return 0.0f;
  if (std::fabs(ax - 1.0f) < 1e-4f) return -0.69314718f;  // log(1/2)
  const float px = kPi * x;
  float sn, cs;
  sincos_wrapped(wrap_phase(px), &sn, &cs);
  const float v = sn / (px * (1.0f - x * x));
  return fast_log(std::max(std::fabs(v), 1e-30f));
}
}  // namespace

void peak_lock(const float* s, int nb, int n_fft, int hop, float thresh, int32_t* owner,
               uint8_t* flip, float* tgrad) {
  constexpr float kMatch = 0.7f;   // nats (6 dB): how closely a side lobe must fit the model
  constexpr int kReach = 48;       // bins: how far a partial's side lobes are followed
  for (int k = 0; k < nb; ++k) {
    owner[k] = -1;
    flip[k] = 0;
  }
  const float tmul = static_cast<float>(2.0 * 3.14159265358979323846 * hop / n_fft);
  for (int m = 1; m < nb - 1; ++m) {
    const float c = s[m];
    if (!(c > thresh && c > s[m - 1] && c >= s[m + 1])) continue;
    const float den = s[m - 1] - 2.0f * c + s[m + 1];
    const float d = den < 0.0f ? std::clamp(0.5f * (s[m - 1] - s[m + 1]) / den, -0.5f, 0.5f) : 0.0f;
    const float f = m + d;
    const float peak = c - hann_kernel_log(d);
    // Claim outward in both directions while the model explains the bins. A stronger
    // partial's claim stands (they are rarely adjacent; first come keeps it simple).
    for (int dir = -1; dir <= 1; dir += 2) {
      for (int k = m + (dir > 0 ? 0 : -1); k >= 0 && k < nb && std::abs(k - m) <= kReach; k += dir) {
        const float x = k - f;
        if (std::fabs(x) >= 2.0f) {
          const float model = peak + hann_kernel_log(x);
          if (!(s[k] > thresh) || std::fabs(s[k] - model) > kMatch) break;
          if (owner[k] >= 0 && owner[k] != m) break;
          tgrad[k] = tmul * (f - k);
        } else if (owner[k] >= 0 && owner[k] != m) {
          break;
        }
        owner[k] = m;
      }
    }
  }
  for (int k = 0; k + 1 < nb; ++k) {
    const int p = owner[k];
    if (p < 0 || owner[k + 1] != p) continue;
    // Recompute the partial's frequency (cheap) to place the kernel's zeros.
    const float den = s[p - 1] - 2.0f * s[p] + s[p + 1];
    const float d = den < 0.0f ? std::clamp(0.5f * (s[p - 1] - s[p + 1]) / den, -0.5f, 0.5f) : 0.0f;
    const float a = k - (p + d), b = a + 1.0f;
    const float n = std::floor(b);
    if (n > a && std::fabs(n) >= 2.0f) flip[k] = 1;
  }
}

}  // namespace fk::dsp

#include "dsp/griffin_lim.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/phase_gradient.hpp"
#include "dsp/pghi.hpp"

namespace fk::dsp {

void griffin_lim(const StftPlan& plan, const float* mag, int64_t F, int n_iter, float momentum,
                 GlInit init, uint64_t seed, float* y, int64_t length) {
  const int L = fft_lanes(), n = plan.n_fft(), nb = plan.bins();
  const int64_t G = plan.groups(F);
  const size_t hc_size = static_cast<size_t>(G) * n * L;
  AlignedFloats magg(static_cast<size_t>(G) * nb * L), A(hc_size), R(hc_size), T(hc_size),
      X(hc_size), work(static_cast<size_t>(n) * L);
  std::vector<float> y_full(static_cast<size_t>(n + plan.hop() * (F - 1)));

  // Magnitudes per (group, bin, lane); frames past the end stay zero.
  for (int64_t t = 0; t < F; ++t) {
    const int64_t g = t / L;
    const int l = static_cast<int>(t % L);
    for (int k = 0; k < nb; ++k) magg[(g * nb + k) * L + l] = mag[k * F + t];
  }
  // Initial phases, as unit complex numbers in half-complex order.
  std::vector<float> P;
  if (init == GlInit::Pghi) {
    P.resize(static_cast<size_t>(F) * nb);
    pghi_phase(plan, mag, F, kPghiTolerance, seed, P.data());
  }
  for (int64_t t = 0; t < F; ++t) {
    const int64_t g = t / L;
    const int l = static_cast<int>(t % L);
    float* a = A.data() + g * n * L;
    for (int k = 0; k < nb; ++k) {
      float ph = init == GlInit::Pghi ? wrap_phase(P[t * nb + k] + ((k & 1) ? kPi : 0.0f))
                                      : hashed_phase(seed, t, k);
      float s, c;
      sincos_wrapped(ph, &s, &c);
      if (k == 0) a[l] = c;
      else if (k == nb - 1) a[(n - 1) * L + l] = c;
      else {
        a[(2 * k - 1) * L + l] = c;
        a[(2 * k) * L + l] = s;
      }
    }
  }

  auto build = [&]() {  // X = mag * A
    for (int64_t g = 0; g < G; ++g) {
      const float* a = A.data() + g * n * L;
      const float* mg = magg.data() + g * nb * L;
      float* x = X.data() + g * n * L;
      for (int l = 0; l < L; ++l) {
        x[l] = mg[l] * a[l];
        x[(n - 1) * L + l] = mg[(nb - 1) * L + l] * a[(n - 1) * L + l];
      }
      for (int k = 1; k < nb - 1; ++k)
        for (int l = 0; l < L; ++l) {
          x[(2 * k - 1) * L + l] = mg[k * L + l] * a[(2 * k - 1) * L + l];
          x[(2 * k) * L + l] = mg[k * L + l] * a[(2 * k) * L + l];
        }
    }
  };

  const float beta = momentum / (1.0f + momentum);
  constexpr float kTiny = 1e-30f;
  for (int it = 0; it < n_iter; ++it) {
    build();
    plan.synthesise(X.data(), F, y_full.data(), work.data());
    plan.analyse(y_full.data(), F, R.data());
    float* a = A.data();
    const float* r = R.data();
    const float* tp = T.data();
    const float b = it == 0 ? 0.0f : beta;
    for (int64_t g = 0; g < G; ++g) {
      const size_t o = static_cast<size_t>(g) * n * L;
      for (int l = 0; l < L; ++l) {  // DC and Nyquist are real
        for (size_t i : {o + l, o + static_cast<size_t>(n - 1) * L + l}) {
          const float v = r[i] - b * tp[i];
          a[i] = v / (std::fabs(v) + kTiny);
        }
      }
      for (int k = 1; k < nb - 1; ++k)
        for (int l = 0; l < L; ++l) {
          const size_t ir = o + static_cast<size_t>(2 * k - 1) * L + l, ii = ir + L;
          const float vr = r[ir] - b * tp[ir], vi = r[ii] - b * tp[ii];
          const float inv = 1.0f / (std::sqrt(vr * vr + vi * vi) + kTiny);
          a[ir] = vr * inv;
          a[ii] = vi * inv;
        }
    }
    std::swap(R, T);
  }
  build();
  plan.synthesise(X.data(), F, y_full.data(), work.data());
  const int pad = n / 2;
  const int64_t avail = static_cast<int64_t>(y_full.size()) - pad;
  const int64_t ncopy = std::min(length, avail);
  if (ncopy > 0) std::memcpy(y, y_full.data() + pad, sizeof(float) * ncopy);
  for (int64_t j = std::max<int64_t>(ncopy, 0); j < length; ++j) y[j] = 0.0f;
}

}  // namespace fk::dsp

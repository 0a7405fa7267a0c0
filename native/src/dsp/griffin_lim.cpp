#include "dsp/griffin_lim.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/phase_gradient.hpp"
#include "dsp/pghi.hpp"

namespace fk::dsp {

namespace {

// One group of the FGLA update: angles = rebuilt - b * previous rebuilt, normalised to unit
// modulus; the rebuilt spectrum is kept as next iteration's "previous".
void project(const float* __restrict r, float* __restrict a, float* __restrict tp, int n,
             float b) {
  constexpr int L = kFftLanes;
  constexpr float kTiny = 1e-30f;
  for (int l = 0; l < L; ++l) {  // DC and Nyquist are real
    const float v0 = r[l] - b * tp[l];
    a[l] = v0 / (std::fabs(v0) + kTiny);
    tp[l] = r[l];
    const int e = (n - 1) * L + l;
    const float v1 = r[e] - b * tp[e];
    a[e] = v1 / (std::fabs(v1) + kTiny);
    tp[e] = r[e];
  }
  for (int i = L; i < (n - 1) * L; i += 2 * L) {  // (re, im) row pairs
    for (int l = 0; l < L; ++l) {
      const float vr = r[i + l] - b * tp[i + l], vi = r[i + L + l] - b * tp[i + L + l];
      const float inv = 1.0f / (std::sqrt(vr * vr + vi * vi) + kTiny);
      a[i + l] = vr * inv;
      a[i + L + l] = vi * inv;
      tp[i + l] = r[i + l];
      tp[i + L + l] = r[i + L + l];
    }
  }
}

}  // namespace

void griffin_lim(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t F, int n_iter,
                 float momentum, GlInit init, uint64_t seed, float* y, int64_t length) {
  const int L = fft_lanes(), n = plan.n_fft(), nb = plan.bins();
  const int64_t G = plan.groups(F);
  const size_t hc_size = static_cast<size_t>(G) * n * L;
  // A: current unit phasors; T: the previous rebuilt spectrum (momentum term). Both in the
  // grouped half-complex layout; X = mag * A is formed per group inside the transforms.
  AlignedFloats magg(static_cast<size_t>(G) * nb * L), A(hc_size), T(hc_size),
      work(static_cast<size_t>(n) * L);
  const int64_t total = n + int64_t(plan.hop()) * (F - 1);
  std::vector<float> y_full(static_cast<size_t>(total));

  for (int64_t t = 0; t < F; ++t) {
    const int64_t g = t / L;
    const int l = static_cast<int>(t % L);
    for (int k = 0; k < nb; ++k) magg[(g * nb + k) * L + l] = mag[k * lay.bin + t * lay.frame];
  }
  std::vector<float> P;
  if (init == GlInit::Pghi) {
    P.resize(static_cast<size_t>(F) * nb);
    pghi_phase(plan, mag, lay, F, kPghiTolerance, seed, P.data());
  }
  for (int64_t t = 0; t < F; ++t) {
    const int64_t g = t / L;
    const int l = static_cast<int>(t % L);
    float* a = A.data() + g * n * L;
    for (int k = 0; k < nb; ++k) {
      const float ph = init == GlInit::Pghi ? wrap_phase(P[t * nb + k] + ((k & 1) ? kPi : 0.0f))
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

  // work = mag * A for group g.
  auto build = [&](int64_t g) {
    const float* a = A.data() + g * n * L;
    const float* mg = magg.data() + g * nb * L;
    float* x = work.data();
    for (int l = 0; l < L; ++l) {
      x[l] = mg[l] * a[l];
      x[(n - 1) * L + l] = mg[(nb - 1) * L + l] * a[(n - 1) * L + l];
    }
    for (int k = 1; k < nb - 1; ++k) {
      const float* m = mg + k * L;
      const float* ar = a + (2 * k - 1) * L;
      float* xr = x + (2 * k - 1) * L;
      for (int l = 0; l < L; ++l) {
        xr[l] = m[l] * ar[l];
        xr[L + l] = m[l] * ar[L + l];
      }
    }
  };
  // Iterations use the exact least-squares inverse (it is the projection); the output uses
  // the synthesis floor (see stft.hpp).
  auto synthesise_all = [&](EnvelopeFloor floor) {
    std::fill(y_full.begin(), y_full.end(), 0.0f);
    for (int64_t g = 0; g < G; ++g) {
      build(g);
      plan.synthesise_group(work.data(), F, g, y_full.data());
    }
    plan.normalise_envelope(y_full.data(), F, floor);
  };

  // Each iteration projects onto the signals the caller gets: `length` samples, analysed
  // with the same centred reflect padding as stft() (and as the torch and librosa loops do).
  // Projecting onto the whole overlap-add support instead lets the n_fft/2 samples past each
  // end absorb inconsistency that the output then loses (about 1 dB on a 0.25 s clip).
  const int pad = n / 2;
  const int64_t sig = std::min(length, total - pad);  // samples the overlap-add provides
  const bool reflect = sig > pad;
  std::vector<float> xp(reflect ? static_cast<size_t>(length + 2 * pad) : 0);
  auto padded = [&]() {
    // xp[pad + j] = y[j] for j < length (zero past the overlap-add), reflected at both ends.
    float* x = xp.data() + pad;
    std::memcpy(x, y_full.data() + pad, sizeof(float) * sig);
    std::fill(x + sig, x + length, 0.0f);
    for (int j = 1; j <= pad; ++j) {
      xp[pad - j] = x[j];
      xp[pad + length - 1 + j] = x[length - 1 - j];
    }
  };
  const float beta = momentum / (1.0f + momentum);
  for (int it = 0; it < n_iter; ++it) {
    synthesise_all(EnvelopeFloor::Exact);
    if (reflect) padded();
    const float b = it == 0 ? 0.0f : beta;
    for (int64_t g = 0; g < G; ++g) {
      if (reflect)
        plan.analyse_group(xp.data(), static_cast<int64_t>(xp.size()), F, g, work.data());
      else
        plan.analyse_group(y_full.data(), total, F, g, work.data());
      project(work.data(), A.data() + g * n * L, T.data() + g * n * L, n, b);
    }
  }
  synthesise_all(EnvelopeFloor::Synthesis);
  const int64_t ncopy = std::min(length, total - pad);
  if (ncopy > 0) std::memcpy(y, y_full.data() + pad, sizeof(float) * ncopy);
  for (int64_t j = std::max<int64_t>(ncopy, 0); j < length; ++j) y[j] = 0.0f;
}

}  // namespace fk::dsp

#include "dsp/griffin_lim.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/phase_gradient.hpp"
#include "dsp/pghi.hpp"

namespace fk::dsp {

namespace {

// One group of X = mag * angles, where angles = normalise(rebuilt - b * previous rebuilt)
// (librosa's momentum form). The update is applied here, inside the next synthesis, rather
// than right after the analysis: the analysis then only writes its spectrum, and each
// iteration streams two spectrogram buffers through memory instead of four (at 10 s the
// state is ~60 MB and the loop is memory-bound).
void form_x(const float* __restrict r, const float* __restrict tp, const float* __restrict mg,
            float* __restrict x, int n, float b) {
  constexpr int L = kFftLanes;
  constexpr float kTiny = 1e-30f;
  for (int l = 0; l < L; ++l) {  // DC and Nyquist are real
    const float v0 = r[l] - b * tp[l];
    x[l] = mg[l] * (v0 / (std::fabs(v0) + kTiny));
    const int e = (n - 1) * L + l;
    const float v1 = r[e] - b * tp[e];
    x[e] = mg[(n / 2) * L + l] * (v1 / (std::fabs(v1) + kTiny));
  }
  for (int k = 1; k < n / 2; ++k) {
    const int i = (2 * k - 1) * L;
    const float* m = mg + k * L;
    for (int l = 0; l < L; ++l) {
      const float vr = r[i + l] - b * tp[i + l], vi = r[i + L + l] - b * tp[i + L + l];
      const float inv = 1.0f / (std::sqrt(vr * vr + vi * vi) + kTiny);
      x[i + l] = m[l] * (vr * inv);
      x[i + L + l] = m[l] * (vi * inv);
    }
  }
}

}  // namespace

void griffin_lim(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t F, int n_iter,
                 float momentum, GlInit init, uint64_t seed, float* y, int64_t length) {
  const int L = fft_lanes(), n = plan.n_fft(), nb = plan.bins();
  const int64_t G = plan.groups(F);
  const size_t hc_size = static_cast<size_t>(G) * n * L;
  // Two spectrogram buffers in the grouped half-complex layout: the latest rebuilt spectrum
  // (at first: the initial unit phasors) and the one before it (the momentum term).
  AlignedFloats magg(static_cast<size_t>(G) * nb * L), A(hc_size), T(hc_size),
      work(static_cast<size_t>(n) * L);
  float* cur = A.data();
  float* prev = T.data();
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

  // work = mag * angles for group g; `first`: the initial phasors, used as they are.
  auto build = [&](int64_t g, bool first, float b) {
    const float* a = cur + g * n * L;
    const float* mg = magg.data() + g * nb * L;
    float* x = work.data();
    if (!first) {
      form_x(a, prev + g * n * L, mg, x, n, b);
      return;
    }
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
  auto synthesise_all = [&](EnvelopeFloor floor, bool first, float b) {
    std::fill(y_full.begin(), y_full.end(), 0.0f);
    for (int64_t g = 0; g < G; ++g) {
      build(g, first, b);
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
  // The update after iteration `it` uses momentum from the second iteration on (librosa's
  // first "previous" is zero); it is applied in the synthesis that follows.
  auto b_after = [&](int it) { return it == 0 ? 0.0f : beta; };
  for (int it = 0; it < n_iter; ++it) {
    synthesise_all(EnvelopeFloor::Exact, it == 0, it == 0 ? 0.0f : b_after(it - 1));
    if (reflect) padded();
    for (int64_t g = 0; g < G; ++g) {
      float* r = prev + g * n * L;  // the spectrum before `cur` is no longer needed
      if (reflect)
        plan.analyse_group(xp.data(), static_cast<int64_t>(xp.size()), F, g, r);
      else
        plan.analyse_group(y_full.data(), total, F, g, r);
    }
    std::swap(cur, prev);
  }
  synthesise_all(EnvelopeFloor::Synthesis, n_iter == 0, n_iter == 0 ? 0.0f : b_after(n_iter - 1));
  const int64_t ncopy = std::min(length, total - pad);
  if (ncopy > 0) std::memcpy(y, y_full.data() + pad, sizeof(float) * ncopy);
  for (int64_t j = std::max<int64_t>(ncopy, 0); j < length; ++j) y[j] = 0.0f;
}

}  // namespace fk::dsp

// The fused Griffin-Lim (one sweep over the frame groups per iteration, several iterations in
// flight) against the whole-array loop it replaced, written plainly from StftPlan's
// whole-signal pieces: synthesise every group into one overlap-add buffer, normalise it,
// reflect-pad the caller's length and analyse every group again. Swept over n_fft/hop pairs,
// frame counts (signals longer than the sliding window too), lengths shorter and longer than
// the frames give or too short to reflect, iteration counts, momentum and both starts.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include "check.h"
#include "dsp/griffin_lim.hpp"
#include "dsp/pghi.hpp"
#include "dsp/phase_gradient.hpp"
#include "dsp/stft.hpp"

namespace dsp = fk::dsp;

namespace {

// mag: bin-major [bins, F]. The previous implementation's algorithm, one whole array at a time.
std::vector<float> reference_gl(const dsp::StftPlan& plan, const std::vector<float>& mag, int64_t F,
                                int n_iter, float momentum, dsp::GlInit init, uint64_t seed,
                                int64_t length) {
  const int L = dsp::fft_lanes(), n = plan.n_fft(), nb = plan.bins(), hop = plan.hop();
  const int pad = n / 2;
  const int64_t G = plan.groups(F), total = n + int64_t(hop) * (F - 1);
  const size_t hc = static_cast<size_t>(n) * L;
  // Spectra in the grouped half-complex layout: bin k of frame t has its real part at row
  // re(k) and its imaginary part at row re(k) + 1 of group t / L, lane t % L.
  auto re = [&](int k) { return k == 0 ? 0 : k == nb - 1 ? n - 1 : 2 * k - 1; };
  auto cell = [&](float* s, int64_t t, int row) -> float& {
    return s[((t / L) * n + row) * L + t % L];
  };
  dsp::AlignedFloats cur(G * hc), prev(G * hc), work(hc);
  std::vector<float> P;
  if (init == dsp::GlInit::Pghi) {
    P.resize(static_cast<size_t>(F) * nb);
    dsp::pghi_phase(plan, mag.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, seed,
                    P.data());
  }
  for (int64_t t = 0; t < F; ++t)
    for (int k = 0; k < nb; ++k) {
      const float ph = init == dsp::GlInit::Pghi
                           ? dsp::wrap_phase(P[t * nb + k] + ((k & 1) ? dsp::kPi : 0.0f))
                           : dsp::hashed_phase(seed, t, k);
      float s, c;
      dsp::sincos_wrapped(ph, &s, &c);
      cell(cur.data(), t, re(k)) = c;
      if (k > 0 && k < nb - 1) cell(cur.data(), t, re(k) + 1) = s;
    }
  const float beta = momentum / (1.0f + momentum);
  std::vector<float> y_full(static_cast<size_t>(total));
  // Overlap-add of mag * angles, angles = the phasors (first) or normalise(cur - b * prev).
  auto synthesise = [&](bool first, float b, dsp::EnvelopeFloor floor) {
    std::fill(y_full.begin(), y_full.end(), 0.0f);
    for (int64_t g = 0; g < G; ++g) {
      work.zero();
      for (int64_t t = g * L; t < std::min(F, (g + 1) * L); ++t)
        for (int k = 0; k < nb; ++k) {
          const bool cplx = k > 0 && k < nb - 1;
          float vr = cell(cur.data(), t, re(k)), vi = cplx ? cell(cur.data(), t, re(k) + 1) : 0.0f;
          if (!first) {
            vr -= b * cell(prev.data(), t, re(k));
            if (cplx) vi -= b * cell(prev.data(), t, re(k) + 1);
            const float inv = 1.0f / (std::sqrt(vr * vr + vi * vi) + 1e-30f);
            vr *= inv;
            vi *= inv;
          }
          const float m = mag[k * F + t];
          cell(work.data(), t - g * L, re(k)) = m * vr;
          if (cplx) cell(work.data(), t - g * L, re(k) + 1) = m * vi;
        }
      plan.synthesise_group(work.data(), F, g, y_full.data());
    }
    plan.normalise_envelope(y_full.data(), F, floor);
  };
  const int64_t sig = std::min(length, total - pad);
  for (int it = 0; it < n_iter; ++it) {
    synthesise(it == 0, it < 2 ? 0.0f : beta, dsp::EnvelopeFloor::Exact);
    std::vector<float> xp;
    if (sig > pad) {  // the length-sample signal, reflect-padded as stft() pads it
      const int64_t m = length + 2 * pad;
      xp.assign(static_cast<size_t>(m), 0.0f);
      std::copy(y_full.begin() + pad, y_full.begin() + pad + sig, xp.begin() + pad);
      for (int j = 1; j <= pad; ++j) {
        xp[pad - j] = xp[pad + j];
        xp[pad + length - 1 + j] = xp[pad + length - 1 - j];
      }
    }
    for (int64_t g = 0; g < G; ++g) {
      float* r = prev.data() + g * hc;  // the momentum term of this iteration is used up
      if (sig > pad)
        plan.analyse_group(xp.data(), static_cast<int64_t>(xp.size()), F, g, r);
      else
        plan.analyse_group(y_full.data(), F, g, r);
    }
    std::swap(cur, prev);
  }
  synthesise(n_iter == 0, n_iter < 2 ? 0.0f : beta, dsp::EnvelopeFloor::Synthesis);
  std::vector<float> y(static_cast<size_t>(length), 0.0f);
  for (int64_t j = 0; j < std::min(length, total - pad); ++j) y[j] = y_full[pad + j];
  return y;
}

// ||a - b|| / ||b||: the iterations amplify rounding differences in the quietest samples, so
// a sample-by-sample bound would measure those, not the algorithm.
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

struct Lcg {
  uint64_t s;
  float next() {  // [0, 1)
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(s >> 40) / float(1 << 24);
  }
};

}  // namespace

int main() {
  const std::pair<int, int> pairs[] = {{16, 1},   {18, 3},    {64, 16},   {64, 32},
                                       {256, 100}, {512, 37}, {1024, 256}, {1024, 512}};
  Lcg rng{12345};
  int cases = 0;
  double worst = 0.0;
  for (auto [n_fft, hop] : pairs) {
    auto plan = dsp::get_stft_plan(n_fft, hop);
    const int nb = plan->bins(), pad = n_fft / 2;
    for (int64_t F : {1, 2, 9, 40, 300}) {
      std::vector<float> mag(static_cast<size_t>(nb) * F);
      for (float& v : mag) v = 2.0f * rng.next();
      const int64_t dflt = dsp::istft_default_length(F, hop), total = n_fft + hop * (F - 1);
      for (int64_t length : {dflt, dflt + 1, dflt - hop, total, total + 3 * int64_t(hop),
                             int64_t(pad), int64_t(pad) + 1, int64_t(3) * n_fft, int64_t(1)}) {
        if (length < 0) continue;
        for (int n_iter : {0, 1, 2, 5}) {
          for (float momentum : {0.99f, 0.0f}) {
            if (momentum == 0.0f && n_iter != 5) continue;
            const dsp::GlInit init = (cases % 5 == 0) ? dsp::GlInit::Pghi : dsp::GlInit::Random;
            const uint64_t seed = 7 + cases;
            std::vector<float> y(static_cast<size_t>(length));
            dsp::griffin_lim(*plan, mag.data(), dsp::SpecLayout::bin_major(F), F, n_iter, momentum,
                             init, seed, y.data(), length);
            const std::vector<float> ref =
                reference_gl(*plan, mag, F, n_iter, momentum, init, seed, length);
            const double e = rel_err(y, ref);
            worst = std::max(worst, e);
            if (!(e <= 1e-4))
              fprintf(stderr, "n_fft %d hop %d frames %lld length %lld iterations %d: error %g\n",
                      n_fft, hop, (long long)F, (long long)length, n_iter, e);
            CHECK(e <= 1e-4);
            ++cases;
          }
        }
      }
    }
  }
  printf("%d cases, worst relative error %g\n", cases, worst);
  return fk_check_summary("griffin_lim_fused");
}

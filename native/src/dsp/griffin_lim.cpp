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

void sincos_all(const float* __restrict ph, float* __restrict s, float* __restrict c, int count) {
  for (int i = 0; i < count; ++i) sincos_wrapped(ph[i], &s[i], &c[i]);
}

}  // namespace

void griffin_lim(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t F, int n_iter,
                 float momentum, GlInit init, uint64_t seed, float* y, int64_t length) {
  const int L = fft_lanes(), n = plan.n_fft(), nb = plan.bins(), hop = plan.hop();
  const int64_t G = plan.groups(F);
  // Per group, one block: two spectra in the grouped half-complex layout, the latest rebuilt
  // one (at first: the initial unit phasors) and the one before it (the momentum term), then
  // the group's magnitudes. An iteration reads each block once, in order: one stream through
  // memory instead of three.
  const int64_t stride = ((int64_t(2) * n + nb) * L + 15) / 16 * 16;  // 64-byte aligned blocks
  AlignedFloats state(static_cast<size_t>(G * stride)), work(static_cast<size_t>(n) * L);
  float* cur = state.data();
  float* prev = state.data() + int64_t(n) * L;
  float* const magg = state.data() + int64_t(2) * n * L;
  const int64_t total = n + int64_t(hop) * (F - 1);

  for (int64_t g = 0; g < G; ++g) {  // lanes of one bin are adjacent in bin-major input
    const int lanes = static_cast<int>(std::min<int64_t>(L, F - g * L));
    for (int k = 0; k < nb; ++k)
      for (int l = 0; l < lanes; ++l)
        magg[g * stride + k * L + l] = mag[k * lay.bin + (g * L + l) * lay.frame];
  }
  std::vector<float> P;
  if (init == GlInit::Pghi) {
    P.resize(static_cast<size_t>(F) * nb);
    pghi_phase(plan, mag, lay, F, kPghiTolerance, seed, P.data());
  }
  {  // The initial phasors, a group at a time: phases first, then sin/cos in one loop that
     // vectorises (one by one, the setup of a 10 s clip cost as much as two iterations).
    std::vector<float> ph(static_cast<size_t>(nb) * L), sn(ph.size()), cs(ph.size());
    for (int64_t g = 0; g < G; ++g) {
      const int lanes = static_cast<int>(std::min<int64_t>(L, F - g * L));
      for (int k = 0; k < nb; ++k)
        for (int l = 0; l < L; ++l) {
          const int64_t t = g * L + l;
          ph[k * L + l] = l >= lanes ? 0.0f
                          : init == GlInit::Pghi
                              ? wrap_phase(P[t * nb + k] + ((k & 1) ? kPi : 0.0f))
                              : hashed_phase(seed, t, k);
        }
      sincos_all(ph.data(), sn.data(), cs.data(), nb * L);
      float* a = cur + g * stride;
      for (int l = 0; l < L; ++l) {
        a[l] = cs[l];
        a[(n - 1) * L + l] = cs[(nb - 1) * L + l];
      }
      for (int k = 1; k < nb - 1; ++k)
        for (int l = 0; l < L; ++l) {
          a[(2 * k - 1) * L + l] = cs[k * L + l];
          a[2 * k * L + l] = sn[k * L + l];
        }
      for (int l = lanes; l < L; ++l)  // frames past the end stay silent
        for (int i = 0; i < n; ++i) a[i * L + l] = 0.0f;
    }
  }

  // work = mag * angles for group g; `first`: the initial phasors, used as they are.
  auto build = [&](int64_t g, bool first, float b) {
    const float* a = cur + g * stride;
    const float* mg = magg + g * stride;
    float* x = work.data();
    if (!first) {
      form_x(a, prev + g * stride, mg, x, n, b);
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

  // Each iteration projects onto the signals the caller gets: `length` samples, analysed
  // with the same centred reflect padding as stft() (and as the torch and librosa loops do).
  // Projecting onto the whole overlap-add support instead lets the n_fft/2 samples past each
  // end absorb inconsistency that the output then loses (about 1 dB on a 0.25 s clip).
  // The analysed signal xp (m samples) is the padded one: xp[pad + j] = y[j] for j < length
  // (zero past the overlap-add), reflected about xp[pad] and xp[pad + length - 1]. Frame t
  // reads xp[t*hop, t*hop + n), so frames away from the ends read the normalised overlap-add
  // y_full at the same indices. A signal too short to reflect (sig <= pad) is analysed as the
  // whole overlap-add instead.
  const int pad = n / 2;
  const int64_t sig = std::min(length, total - pad);  // samples the overlap-add provides
  const bool reflect = sig > pad;
  const int64_t m = reflect ? length + 2 * pad : total;
  const int64_t span = int64_t(L) * hop;  // from one group's first frame to the next's
  auto frame_end = [&](int64_t g) { return (std::min(F, (g + 1) * L) - 1) * hop + n; };

  // One pass per iteration, group by group: synthesise group g into a sliding window of
  // y_full, normalise the samples no later group touches, and analyse every group whose frames
  // are now complete, writing its spectrum over the momentum term that group's synthesis
  // has just used. What an iteration touches besides the spectrogram buffers fits in cache.
  // Groups [0, a_head) read the reflected start and groups [a_tail, G) the end (or frames past
  // pad + sig): they read small padded copies, made when their samples are final.
  int64_t a_head = 0, a_tail = G, head_len = 0, tail0 = 0;
  bool folds = false;
  if (reflect) {
    // First frame reading past pad + sig: t*hop + n > pad + sig.
    const int64_t lim = pad + sig - n;
    const int64_t t_tail = std::min<int64_t>(F, lim < 0 ? 0 : lim / hop + 1);
    a_tail = t_tail >= F ? G : t_tail / L;
    const int64_t t_head = (pad + hop - 1) / hop;  // frames starting before xp[pad]
    a_head = std::min(a_tail, (t_head + L - 1) / L);
    if (a_head > 0) head_len = frame_end(a_head - 1);
    // The end reflection reads xp[length - 1, ...), possibly just before the tail groups.
    tail0 = std::min(a_tail * span, length - 1);
    folds = (F - 1) * hop + n > m;  // frames past xp's end read it reflected (length < frames)
    if (folds) tail0 = 0;
  }
  const int64_t head_need = std::max<int64_t>(head_len, 2 * pad + 1);
  // Window: the samples from the first group not yet analysed to the last one synthesised,
  // with room for 16 more groups so that it slides (a copy of its live part) rarely.
  const int64_t lag = (n - hop + span - 1) / span;  // groups between synthesis and analysis
  int64_t W = (lag + 16) * span + 2 * int64_t(n) + pad;
  if (W >= total || a_tail == 0 || folds) W = total;
  std::vector<float> win(static_cast<size_t>(W)), head(static_cast<size_t>(head_len)),
      tail(a_tail < G ? static_cast<size_t>(m - tail0) : 0);
  const int64_t keep_max = a_tail < G ? tail0 : total;
  const StftPlan::EdgeEnvelope edges = plan.edge_envelope(F);

  // Synthesise every group from (cur, prev, b) into the window, normalised with `floor`; then
  // either analyse (into prev, group by group) or, for the output, write y.
  auto pass = [&](bool first, float b, bool output) {
    const EnvelopeFloor floor = output ? EnvelopeFloor::Synthesis : EnvelopeFloor::Exact;
    int64_t base = 0, zeroed = 0, normed = 0, next_a = 0;
    float* w = win.data();
    for (int64_t g = 0; g < G; ++g) {
      const int64_t reach = frame_end(g);
      if (reach - base > W) {  // slide: drop what no group left to analyse reads
        const int64_t keep = std::min(output ? normed : next_a * span, keep_max);
        std::memmove(w, w + (keep - base), sizeof(float) * (zeroed - keep));
        base = keep;
        if (reach - base > W) {  // W covers every case worked out above; never taken
          W = reach - base;
          win.resize(static_cast<size_t>(W));
          w = win.data();
        }
      }
      std::memset(w + (zeroed - base), 0, sizeof(float) * (reach - zeroed));
      zeroed = reach;
      build(g, first, b);
      plan.synthesise_group_at(work.data(), F, g, w, base);
      // Samples before the next group's first frame are final.
      const int64_t fin = g + 1 < G ? (g + 1) * span : total;
      if (output) {
        const int64_t lo = std::max<int64_t>(normed, pad), hi = std::min(fin, pad + length);
        if (hi > lo) plan.normalise_span(w + (lo - base), F, floor, lo, hi - lo, y + (lo - pad), &edges);
        normed = fin;
        continue;
      }
      plan.normalise_span(w + (normed - base), F, floor, normed, fin - normed, w + (normed - base),
                          &edges);
      normed = fin;
      for (; next_a < a_tail; ++next_a) {
        float* r = prev + next_a * stride;  // the spectrum before `cur` is no longer needed
        if (next_a < a_head) {
          if (normed < head_need) break;
          if (next_a == 0)  // xp[0, head_len): y_full reflected about pad
            for (int64_t i = 0; i < head_len; ++i) head[i] = w[(i < pad ? 2 * pad - i : i) - base];
          plan.analyse_group_at(head.data(), head_len, 0, F, next_a, r);
        } else {
          if (std::min(total, frame_end(next_a)) > normed) break;
          plan.analyse_group_at(w, normed - base, base, F, next_a, r);
        }
      }
    }
    if (output) {
      for (int64_t j = std::max<int64_t>(normed - pad, 0); j < length; ++j) y[j] = 0.0f;
      return;
    }
    if (a_tail == G) return;
    // xp[tail0, m): the overlap-add, zeros past it, and both reflections.
    float* tl = tail.data();
    for (int64_t i = tail0; i < m; ++i)
      tl[i - tail0] = i >= pad && i < pad + sig ? w[i - base] : 0.0f;
    for (int64_t i = std::max(tail0, pad + length); i < m; ++i)
      tl[i - tail0] = tl[2 * (pad + length - 1) - i - tail0];
    for (int64_t i = tail0; i < pad; ++i) tl[i - tail0] = tl[2 * pad - i - tail0];
    for (int64_t a = a_tail; a < G; ++a)
      plan.analyse_group_at(tl, m - tail0, tail0, F, a, prev + a * stride);
  };

  const float beta = momentum / (1.0f + momentum);
  // The update after iteration `it` uses momentum from the second iteration on (librosa's
  // first "previous" is zero); it is applied in the synthesis that follows.
  auto b_after = [&](int it) { return it == 0 ? 0.0f : beta; };
  // pocketfft's per-transform scratch comes from one buffer instead of the heap.
  AlignedFloats fft_scratch(plan.fft().scratch_bytes() / sizeof(float) + 16);
  ScratchScope scope(fft_scratch.data(), fft_scratch.size() * sizeof(float));
  for (int it = 0; it < n_iter; ++it) {
    pass(it == 0, it == 0 ? 0.0f : b_after(it - 1), false);
    std::swap(cur, prev);
  }
  pass(n_iter == 0, n_iter == 0 ? 0.0f : b_after(n_iter - 1), true);
}

}  // namespace fk::dsp

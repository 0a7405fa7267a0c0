#include "dsp/griffin_lim.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/phase_gradient.hpp"
#include "dsp/pghi.hpp"

namespace fk::dsp {

namespace {

#if defined(__GNUC__) || defined(__clang__)
#define FK_GL_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define FK_GL_NOINLINE __declspec(noinline)
#else
#define FK_GL_NOINLINE
#endif

// One group of X = mag * angles, where angles = normalise(rebuilt - b * previous rebuilt)
// (librosa's momentum form). The update is applied here, inside the next synthesis, rather
// than right after the analysis: the analysis then only writes its spectrum, and an
// iteration reads each group's state once and writes one spectrum back.
// Kept out of line so that its rounding (which multiply-adds the compiler contracts) does
// not depend on the code around the call: the result stays the same bit for bit however the
// iterations are scheduled.
FK_GL_NOINLINE void form_x(const float* __restrict r, const float* __restrict tp,
                           const float* __restrict mg, float* __restrict x, int n, float b) {
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

// Iterations in flight at once (see the sweeps below).
constexpr int kInFlight = 4;

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
  float* const phasors = state.data();  // slot 0 of every block (see `slot` below)
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
      float* a = phasors + g * stride;
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

  // An iteration is a sweep over the groups: synthesise group g into a sliding window of
  // y_full, normalise the samples no later group touches, and analyse every group whose frames
  // are now complete, writing its spectrum over the momentum term that group's synthesis has
  // used. Groups [0, a_head) read the reflected start and groups [a_tail, G) the end (or
  // frames past pad + sig): they read small padded copies, made when their samples are final.
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
  // with room for a few more groups so that it slides (a copy of its live part) rarely.
  const int64_t lag = (n - hop + span - 1) / span;  // groups between synthesis and analysis
  int64_t W = (lag + 8) * span + 2 * int64_t(n) + pad;
  if (W >= total || a_tail == 0 || folds) W = total;
  const int64_t keep_max = a_tail < G ? tail0 : total;
  const StftPlan::EdgeEnvelope edges = plan.edge_envelope(F);

  // Several iterations are in flight at once, each a few groups behind the one before (it
  // may synthesise group g once its predecessor has analysed g). They all pass over the same
  // few spectrogram blocks while those are in cache, so the spectrogram streams through
  // memory once per kInFlight iterations instead of once per iteration. Every group still
  // sees the same operations in the same order as with one iteration at a time.
  struct Sweep {
    int it = 0;          // iteration (n_iter: the output synthesis)
    int64_t g = 0;       // next group to synthesise
    int64_t next_a = 0;  // groups [0, next_a) analysed
    int64_t base = 0, zeroed = 0, normed = 0;  // window holds y_full[base, zeroed)
    bool done = false;
    std::vector<float> win, head, tail;
  };
  const int in_flight = std::min(kInFlight, n_iter + 1);
  std::vector<Sweep> sweeps(static_cast<size_t>(in_flight));
  for (Sweep& s : sweeps) {
    s.win.resize(static_cast<size_t>(W));
    s.head.resize(static_cast<size_t>(head_len));
    s.tail.resize(a_tail < G ? static_cast<size_t>(m - tail0) : 0);
  }

  const float beta = momentum / (1.0f + momentum);
  // Iteration `it` reads the spectrum rebuilt by it - 1 from slot it % 2 and the one before
  // from the other slot, which it overwrites with its own. It applies librosa's update with
  // momentum from its third iteration on (librosa's first "previous" is zero); iteration 0
  // uses the initial phasors as they are.
  auto slot = [&](int it) { return state.data() + int64_t(it & 1) * n * L; };
  auto b_for = [&](int it) { return it < 2 ? 0.0f : beta; };

  // work = mag * angles for group g of iteration `it`.
  auto build = [&](int it, int64_t g) {
    const float* a = slot(it) + g * stride;
    const float* mg = magg + g * stride;
    float* x = work.data();
    if (it > 0) {
      form_x(a, slot(it + 1) + g * stride, mg, x, n, b_for(it));
      return;
    }
    for (int l = 0; l < L; ++l) {
      x[l] = mg[l] * a[l];
      x[(n - 1) * L + l] = mg[(nb - 1) * L + l] * a[(n - 1) * L + l];
    }
    for (int k = 1; k < nb - 1; ++k) {
      const float* mk = mg + k * L;
      const float* ar = a + (2 * k - 1) * L;
      float* xr = x + (2 * k - 1) * L;
      for (int l = 0; l < L; ++l) {
        xr[l] = mk[l] * ar[l];
        xr[L + l] = mk[l] * ar[L + l];
      }
    }
  };

  // One group of sweep s: synthesise, normalise (the output: into y), analyse what is ready;
  // after the last group, the tail groups.
  auto step = [&](Sweep& s) {
    const bool output = s.it == n_iter;
    const EnvelopeFloor floor = output ? EnvelopeFloor::Synthesis : EnvelopeFloor::Exact;
    const int64_t g = s.g++;
    float* w = s.win.data();
    const int64_t reach = frame_end(g);
    if (reach - s.base > W) {  // slide: drop what no group left to analyse reads
      const int64_t keep = std::min(output ? s.normed : s.next_a * span, keep_max);
      std::memmove(w, w + (keep - s.base), sizeof(float) * (s.zeroed - keep));
      s.base = keep;
      if (reach - s.base > W) {  // W covers every case worked out above; never taken
        s.win.resize(static_cast<size_t>(reach - s.base));
        w = s.win.data();
      }
    }
    std::memset(w + (s.zeroed - s.base), 0, sizeof(float) * (reach - s.zeroed));
    s.zeroed = reach;
    build(s.it, g);
    plan.synthesise_group_at(work.data(), F, g, w, s.base);
    // Samples before the next group's first frame are final.
    const int64_t fin = g + 1 < G ? (g + 1) * span : total;
    if (output) {
      const int64_t lo = std::max<int64_t>(s.normed, pad), hi = std::min(fin, pad + length);
      if (hi > lo)
        plan.normalise_span(w + (lo - s.base), F, floor, lo, hi - lo, y + (lo - pad), &edges);
      s.normed = fin;
      if (s.g == G) {
        for (int64_t j = std::max<int64_t>(total - pad, 0); j < length; ++j) y[j] = 0.0f;
        s.done = true;
      }
      return;
    }
    plan.normalise_span(w + (s.normed - s.base), F, floor, s.normed, fin - s.normed,
                        w + (s.normed - s.base), &edges);
    s.normed = fin;
    float* out = slot(s.it + 1);  // the spectrum before the one this iteration started from
    for (; s.next_a < a_tail; ++s.next_a) {
      float* r = out + s.next_a * stride;
      if (s.next_a < a_head) {
        if (s.normed < head_need) break;
        if (s.next_a == 0)  // xp[0, head_len): y_full reflected about pad
          for (int64_t i = 0; i < head_len; ++i)
            s.head[i] = w[(i < pad ? 2 * pad - i : i) - s.base];
        plan.analyse_group_at(s.head.data(), head_len, 0, F, s.next_a, r);
      } else {
        if (std::min(total, frame_end(s.next_a)) > s.normed) break;
        plan.analyse_group_at(w, s.normed - s.base, s.base, F, s.next_a, r);
      }
    }
    if (s.g < G) return;
    if (a_tail < G) {  // xp[tail0, m): the overlap-add, zeros past it, and both reflections
      float* tl = s.tail.data();
      for (int64_t i = tail0; i < m; ++i)
        tl[i - tail0] = i >= pad && i < pad + sig ? w[i - s.base] : 0.0f;
      for (int64_t i = std::max(tail0, pad + length); i < m; ++i)
        tl[i - tail0] = tl[2 * (pad + length - 1) - i - tail0];
      for (int64_t i = tail0; i < pad; ++i) tl[i - tail0] = tl[2 * pad - i - tail0];
      for (int64_t a = a_tail; a < G; ++a)
        plan.analyse_group_at(tl, m - tail0, tail0, F, a, out + a * stride);
    }
    s.next_a = G;
    s.done = true;
  };

  // pocketfft's per-transform scratch comes from one buffer instead of the heap.
  AlignedFloats fft_scratch(plan.fft().scratch_bytes() / sizeof(float) + 16);
  ScratchScope scope(fft_scratch.data(), fft_scratch.size() * sizeof(float));
  // Sweeps of iterations [oldest, oldest + in_flight) by slot it % in_flight; each round
  // moves every sweep one group on, as far as its predecessor's analysis allows.
  int oldest = 0, started = 0;
  while (oldest <= n_iter) {
    while (started <= n_iter && started < oldest + in_flight) {
      Sweep& s = sweeps[started % in_flight];
      s.it = started++;
      s.g = s.next_a = s.base = s.zeroed = s.normed = 0;
      s.done = false;
    }
    for (int it = oldest; it < started; ++it) {
      Sweep& s = sweeps[it % in_flight];
      if (s.done) continue;
      const int64_t ready = it == oldest ? G : sweeps[(it - 1) % in_flight].next_a;
      if (s.g < ready) step(s);
    }
    while (oldest < started && sweeps[oldest % in_flight].done) ++oldest;
  }
}

}  // namespace fk::dsp

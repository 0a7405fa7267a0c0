#include "dsp/stft.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "dsp/error.hpp"
#include "dsp/transpose.hpp"

namespace fk::dsp {

namespace {
constexpr int kMinFft = 16;
constexpr int kMaxFft = 65536;
constexpr double kTwoPi = 6.283185307179586476925286766559;
}  // namespace

void validate_fft_params(int n_fft, int hop) {
  if (n_fft < kMinFft || n_fft > kMaxFft || (n_fft % 2) != 0)
    throw Error(Status::InvalidArgument,
                "n_fft must be even and in [" + std::to_string(kMinFft) + ", " +
                    std::to_string(kMaxFft) + "], got " + std::to_string(n_fft));
  if (hop < 1 || hop > n_fft / 2)
    throw Error(Status::InvalidArgument, "hop must be in [1, n_fft/2] = [1, " +
                                             std::to_string(n_fft / 2) + "], got " +
                                             std::to_string(hop));
}

int64_t stft_frames(int64_t n_samples, int hop) { return 1 + n_samples / hop; }
int64_t istft_default_length(int64_t n_frames, int hop) { return hop * (n_frames - 1); }

StftPlan::StftPlan(int n_fft, int hop) : n_fft_(n_fft), hop_(hop), fft_(n_fft) {
  window_.resize(n_fft);
  for (int i = 0; i < n_fft; ++i)
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(kTwoPi * i / n_fft));
  // Enough frames that no edge sample meets both ends (see envelope_edge).
  edge_table_frames_ = n_fft / hop + 2;
  {
    const int64_t big = 4 * edge_table_frames_, last = int64_t(hop) * (big - 1);
    head_env_.resize(static_cast<size_t>(n_fft - 1));
    for (int64_t j = 0; j < n_fft - 1; ++j) head_env_[j] = envelope_at(j, big);
    tail_env_.resize(static_cast<size_t>(n_fft));
    for (int64_t u = 0; u < n_fft; ++u) tail_env_[u] = envelope_at(last + u, big);
  }
  inv_env_.assign(hop, 0.0f);
  double min_env = 1e300;
  for (int r = 0; r < hop; ++r) {
    double s = 0.0;
    for (int i = r; i < n_fft; i += hop) s += double(window_[i]) * window_[i];
    inv_env_[r] = static_cast<float>(1.0 / s);  // hop <= n_fft/2 keeps s >= 0.5
    min_env = std::min(min_env, s);
  }
  // A signal of L samples gives 1 + L/hop frames, so its last sample sits up to hop - 1
  // samples past the last frame's centre; the envelope there must stay exact. Half of it is
  // the floor, which only the fade-out past the signal ever meets.
  double env_end = 0.0;
  for (int i = n_fft / 2 + hop - 1; i < n_fft; i += hop) env_end += double(window_[i]) * window_[i];
  synthesis_floor_ = static_cast<float>(std::max(0.5 * env_end, 1e-3 * min_env));
#ifdef FK_HAVE_AVX_TRANSPOSE
  packed_inverse_ = fft_lanes() == 8 && n_fft % 8 == 0 && fft_.packed();
#endif
}

int64_t StftPlan::groups(int64_t n_frames) const {
  const int L = fft_lanes();
  return (n_frames + L - 1) / L;
}

namespace {

// Index j of a signal of n samples, reflected about its ends (numpy's "reflect"). One
// reflection covers every frame of a signal longer than n_fft/2; a frame reaching further
// (a caller's signal much shorter than its frames) folds back again, periodically.
inline int64_t reflect_index(int64_t j, int64_t n) {
  int64_t r = j < 0 ? -j : j;
  if (r >= n) r = 2 * (n - 1) - r;
  if (r >= 0 && r < n) return r;
  const int64_t p = 2 * (n - 1);
  if (p <= 0) return 0;
  r = j % p;
  if (r < 0) r += p;
  return r < n ? r : p - r;
}

// Gather frames [t0, t0+L), windowed, into the interleaved work buffer. Frame t starts at
// signal index t*hop + offset; frames that stick out of [0, n) read the signal reflected
// about its ends (stft's centre padding), all others read it directly.
inline void gather_frames(const float* x, int64_t n, int64_t offset, int64_t t0, int64_t n_frames,
                          int n_fft, int hop, const float* w, float* work) {
  const int L = fft_lanes();
  const float* src[16];
  bool direct = true;
  for (int l = 0; l < L; ++l) {
    const int64_t s0 = (t0 + l) * hop + offset;
    src[l] = x + s0;
    if (t0 + l >= n_frames || s0 < 0 || s0 + n_fft > n) direct = false;
  }
  if (direct) {
    int i0 = 0;
#ifdef FK_HAVE_AVX_TRANSPOSE
    if (L == 8)
      for (; i0 + 8 <= n_fft; i0 += 8) rows_to_lanes(src, i0, work + i0 * 8, w + i0);
#endif
    for (int i = i0; i < n_fft; ++i) {
      const float wi = w[i];
      float* dst = work + i * L;
      for (int l = 0; l < L; ++l) dst[l] = src[l][i] * wi;
    }
    return;
  }
  for (int l = 0; l < L; ++l) {
    const int64_t t = t0 + l;
    if (t >= n_frames) {
      for (int i = 0; i < n_fft; ++i) work[i * L + l] = 0.0f;
      continue;
    }
    const int64_t s0 = t * hop + offset;
    if (s0 >= 0 && s0 + n_fft <= n) {  // this frame is inside, only a neighbour sticks out
      for (int i = 0; i < n_fft; ++i) work[i * L + l] = x[s0 + i] * w[i];
      continue;
    }
    for (int i = 0; i < n_fft; ++i) work[i * L + l] = x[reflect_index(s0 + i, n)] * w[i];
  }
}

// One group of interleaved half-complex frames -> frame-major spectrogram rows.
inline void scatter_group(const float* work, int n_fft, int64_t t0, int lanes, cfloat* S) {
  const int L = fft_lanes(), nb = n_fft / 2 + 1;
#ifdef FK_HAVE_AVX_TRANSPOSE
  // Half-complex row r (1 <= r <= n-2) is float r+1 of the frame's complex array.
  if (L == 8 && lanes == 8) {
    float* rows[8];
    for (int l = 0; l < 8; ++l) rows[l] = reinterpret_cast<float*>(S + (t0 + l) * nb);
    int r = 1;
    for (; r + 8 <= n_fft - 1; r += 8) lanes_to_rows(work + r * 8, rows, r + 1, nullptr, false);
    for (int l = 0; l < 8; ++l) {
      for (int q = r; q <= n_fft - 2; ++q) rows[l][q + 1] = work[q * 8 + l];
      rows[l][0] = work[l];
      rows[l][1] = 0.0f;
      rows[l][n_fft] = work[(n_fft - 1) * 8 + l];
      rows[l][n_fft + 1] = 0.0f;
    }
    return;
  }
#endif
  for (int l = 0; l < lanes; ++l) {
    cfloat* row = S + (t0 + l) * nb;
    row[0] = cfloat(work[l], 0.0f);
    for (int k = 1; k < nb - 1; ++k) row[k] = cfloat(work[(2 * k - 1) * L + l], work[2 * k * L + l]);
    row[nb - 1] = cfloat(work[(n_fft - 1) * L + l], 0.0f);
  }
}

// 1 for a finite value, 0 for NaN or Inf; an int, so that the checks combine with a branch-free &.
inline int finite_value(float v) { return static_cast<int>(std::fabs(v) <= std::numeric_limits<float>::max()); }

#ifdef FK_HAVE_AVX_TRANSPOSE
// One bin's 8 lanes of a bin-major spectrogram (p: re0 im0 re1 ... im7) -> their real and
// imaginary parts; with Check, their nonfinite_bits ORed into bad.
template <bool Check>
inline void split_bin8(const float* p, __m256& re, __m256& im, __m256& bad) {
  const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
  if (Check) bad = _mm256_or_ps(bad, nonfinite_bits(a, b));
  const __m256 lo = _mm256_permute2f128_ps(a, b, 0x20), hi = _mm256_permute2f128_ps(a, b, 0x31);
  re = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
  im = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
}
#endif

// Spectrogram (any layout) -> one group of interleaved half-complex frames, through 8x8
// transposes where the layout allows (frame-major: also a partial group). When Check, it also
// tests every value it reads for NaN and Inf (both parts of every bin, the imaginary parts the
// half-complex layout drops included), so the input is read once instead of twice; it returns
// false when it finds one. Lanes past `lanes` hold a copy of the last frame or zeros; their
// transforms are never added.
template <bool Check>
inline bool gather_group(const cfloat* S, SpecLayout lay, int n_fft, int64_t t0, int lanes,
                         float* work) {
  const int L = fft_lanes(), nb = n_fft / 2 + 1;
  bool ok = true;
#ifdef FK_HAVE_AVX_TRANSPOSE
  if (L == 8 && lay.bin == 1) {  // frame-major: transpose 8x8 blocks
    const float* rows[8];
    for (int l = 0; l < 8; ++l)
      rows[l] = reinterpret_cast<const float*>(S + (t0 + std::min(l, lanes - 1)) * lay.frame);
    __m256 bad = _mm256_setzero_ps();
    int r = 1;
    for (; r + 8 <= n_fft - 1; r += 8) rows_to_lanes(rows, r + 1, work + r * 8, nullptr, Check ? &bad : nullptr);
    for (int l = 0; l < 8; ++l) {
      const float* row = rows[l];
      for (int q = r; q <= n_fft - 2; ++q) work[q * 8 + l] = row[q + 1];
      work[l] = row[0];
      work[(n_fft - 1) * 8 + l] = row[n_fft];
      if (Check && l < lanes) {
        bool f = finite_value(row[0]) & finite_value(row[1]) & finite_value(row[n_fft]) &
                 finite_value(row[n_fft + 1]);
        for (int q = r; q <= n_fft - 2; ++q) f &= finite_value(row[q + 1]);
        ok &= f;
      }
    }
    if (Check) ok &= _mm256_movemask_ps(_mm256_cmp_ps(bad, bad, _CMP_UNORD_Q)) == 0;
    return ok;
  }
  if (L == 8 && lay.frame == 1 && lanes == 8) {  // bin-major: split each bin's 8 values
    __m256 bad = _mm256_setzero_ps();
    for (int k = 0; k < nb; ++k) {
      __m256 re, im;
      split_bin8<Check>(reinterpret_cast<const float*>(S + k * lay.bin + t0), re, im, bad);
      float* dst = k == 0 ? work : k == nb - 1 ? work + (n_fft - 1) * 8 : work + (2 * k - 1) * 8;
      _mm256_storeu_ps(dst, re);
      if (k > 0 && k < nb - 1) _mm256_storeu_ps(dst + 8, im);
    }
    if (Check) ok &= _mm256_movemask_ps(_mm256_cmp_ps(bad, bad, _CMP_UNORD_Q)) == 0;
    return ok;
  }
#endif
  if (lanes < L) std::memset(work, 0, sizeof(float) * n_fft * L);
  for (int l = 0; l < lanes; ++l) {  // any layout: walk each frame
    const cfloat* col = S + (t0 + l) * lay.frame;
    bool f = true;
    for (int k = 0; k < nb; ++k) {
      const cfloat v = col[k * lay.bin];
      if (Check) f &= finite_value(v.real()) & finite_value(v.imag());
      if (k == 0) {
        work[l] = v.real();
      } else if (k == nb - 1) {
        work[(n_fft - 1) * L + l] = v.real();
      } else {
        work[(2 * k - 1) * L + l] = v.real();
        work[2 * k * L + l] = v.imag();
      }
    }
    ok &= f;
  }
  return ok;
}

#ifdef FK_HAVE_AVX_TRANSPOSE
// Spectrogram -> one group in the packed order of RealFFT::inverse_batch_packed (row 0 =
// re X0, row 1 = re X(n/2), rows 2k and 2k+1 = Xk), for n_fft a multiple of 8 and 8 lanes. A
// frame-major frame is in that order already but for its second float (im X0, which the
// inverse ignores), so its gather is plain 8x8 transposes. The NaN/Inf check (Check) and the
// lanes past `lanes` are as in gather_group.
template <bool Check>
inline bool gather_packed(const cfloat* S, SpecLayout lay, int n_fft, int64_t t0, int lanes,
                          float* work) {
  const int nb = n_fft / 2 + 1;
  bool ok = true;
  __m256 bad = _mm256_setzero_ps();
  if (lay.bin == 1) {  // frame-major
    const float* rows[8];
    for (int l = 0; l < 8; ++l)
      rows[l] = reinterpret_cast<const float*>(S + (t0 + std::min(l, lanes - 1)) * lay.frame);
    for (int r = 0; r < n_fft; r += 8) rows_to_lanes(rows, r, work + r * 8, nullptr, Check ? &bad : nullptr);
    for (int l = 0; l < 8; ++l) {
      work[8 + l] = rows[l][n_fft];  // re X(n/2) over im X0
      if (Check && l < lanes) ok &= finite_value(rows[l][n_fft]) & finite_value(rows[l][n_fft + 1]);
    }
  } else if (lay.frame == 1 && lanes == 8) {  // bin-major: split each bin's 8 values
    for (int k = 0; k < nb; ++k) {
      __m256 re, im;
      split_bin8<Check>(reinterpret_cast<const float*>(S + k * lay.bin + t0), re, im, bad);
      if (k == 0 || k == nb - 1) {
        _mm256_storeu_ps(work + (k == 0 ? 0 : 8), re);
      } else {
        _mm256_storeu_ps(work + 2 * k * 8, re);
        _mm256_storeu_ps(work + 2 * k * 8 + 8, im);
      }
    }
  } else {  // any layout: walk each frame
    if (lanes < 8) std::memset(work, 0, sizeof(float) * n_fft * 8);
    for (int l = 0; l < lanes; ++l) {
      const cfloat* col = S + (t0 + l) * lay.frame;
      bool f = true;
      for (int k = 0; k < nb; ++k) {
        const cfloat v = col[k * lay.bin];
        if (Check) f &= finite_value(v.real()) & finite_value(v.imag());
        if (k == 0 || k == nb - 1) {
          work[(k == 0 ? 0 : 8) + l] = v.real();
        } else {
          work[2 * k * 8 + l] = v.real();
          work[2 * k * 8 + 8 + l] = v.imag();
        }
      }
      ok &= f;
    }
  }
  if (Check) ok &= _mm256_movemask_ps(_mm256_cmp_ps(bad, bad, _CMP_UNORD_Q)) == 0;
  return ok;
}

// The windowed overlap-add of the first `lanes` frames of a group that
// RealFFT::inverse_batch_packed transformed (samples 4q, 4q+1 in rows 2q, 2q+1; 4q+2, 4q+3 in
// rows n/2 + 2q, n/2 + 2q + 1), frame l at y + l*hop, 8 samples of every frame at a time.
inline void overlap_add_packed(const float* work, int n_fft, int hop, int lanes, const float* w,
                               float* y) {
  const int half = n_fft / 2;
  for (int i = 0; i < n_fft; i += 8) {
    const float* a = work + (i / 2) * 8;
    const float* b = work + (half + i / 2) * 8;
    __m256 r0 = _mm256_loadu_ps(a), r1 = _mm256_loadu_ps(a + 8);
    __m256 r2 = _mm256_loadu_ps(b), r3 = _mm256_loadu_ps(b + 8);
    __m256 r4 = _mm256_loadu_ps(a + 16), r5 = _mm256_loadu_ps(a + 24);
    __m256 r6 = _mm256_loadu_ps(b + 16), r7 = _mm256_loadu_ps(b + 24);
    transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
    const __m256 rs[8] = {r0, r1, r2, r3, r4, r5, r6, r7};
    const __m256 wv = _mm256_loadu_ps(w + i);
    for (int l = 0; l < lanes; ++l) {
      float* d = y + int64_t(l) * hop + i;
#ifdef __FMA__
      _mm256_storeu_ps(d, _mm256_fmadd_ps(rs[l], wv, _mm256_loadu_ps(d)));
#else
      _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), _mm256_mul_ps(rs[l], wv)));
#endif
    }
  }
}
#endif

// Inverse-transformed group -> windowed overlap-add into y (frame t at t*hop - y0).
inline void overlap_add_group(const float* work, int n_fft, int hop, int64_t t0, int lanes,
                              const float* w, float* y, int64_t y0 = 0) {
  const int L = fft_lanes();
#ifdef FK_HAVE_AVX_TRANSPOSE
  if (L == 8 && lanes == 8 && n_fft % 8 == 0) {
    float* rows[8];
    for (int l = 0; l < 8; ++l) rows[l] = y + ((t0 + l) * hop - y0);
    for (int i = 0; i < n_fft; i += 8) lanes_to_rows(work + i * 8, rows, i, w + i, true);
    return;
  }
#endif
  for (int l = 0; l < lanes; ++l) {
    float* dst = y + ((t0 + l) * hop - y0);
    for (int i = 0; i < n_fft; ++i) dst[i] += work[i * L + l] * w[i];
  }
}

// One sample divided by the window-sum envelope s, in double, under the floor rule.
inline float divide_one(float x, double s, EnvelopeFloor fl, double floor) {
  return fl == EnvelopeFloor::Exact ? (s > floor ? static_cast<float>(x / s) : 0.0f)
                                    : static_cast<float>(x / std::max(s, floor));
}

// divide_one over n samples (in may equal out). The AVX loop does the same IEEE double
// divisions and roundings four at a time, so the same bits.
inline void divide_by_envelope(const float* in, const double* env, int64_t n, EnvelopeFloor fl,
                               double floor, float* out) {
  int64_t i = 0;
#ifdef __AVX__
  const __m256d fv = _mm256_set1_pd(floor);
  if (fl == EnvelopeFloor::Exact) {
    for (; i + 4 <= n; i += 4) {
      const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(in + i)), s = _mm256_loadu_pd(env + i);
      const __m256d keep = _mm256_cmp_pd(s, fv, _CMP_GT_OQ);
      _mm_storeu_ps(out + i, _mm256_cvtpd_ps(_mm256_and_pd(_mm256_div_pd(x, s), keep)));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(in + i)), s = _mm256_loadu_pd(env + i);
      _mm_storeu_ps(out + i, _mm256_cvtpd_ps(_mm256_div_pd(x, _mm256_max_pd(s, fv))));
    }
  }
#endif
  for (; i < n; ++i) out[i] = divide_one(in[i], env[i], fl, floor);
}

// Per-thread scratch reused across offline calls, so that none allocates after the first: the
// group being transformed, istft's overlap-add window, and an arena for pocketfft's temporary
// buffers (a ScratchScope).
struct Scratch {
  AlignedFloats work;
  std::vector<float> y_full;  // istft's overlap-add window
  AlignedFloats fft_arena;
};
Scratch& scratch(size_t work_floats, size_t y_floats, size_t fft_bytes = 0) {
  thread_local Scratch s;
  if (s.work.size() < work_floats) s.work.resize(work_floats);
  if (s.y_full.size() < y_floats) s.y_full.resize(y_floats);
  const size_t arena_floats = (fft_bytes + sizeof(float) - 1) / sizeof(float);
  if (s.fft_arena.size() < arena_floats) s.fft_arena.resize(arena_floats);
  return s;
}

}  // namespace

void StftPlan::analyse_group(const float* y_full, int64_t n_frames, int64_t g,
                             float* work) const {
  analyse_group(y_full, n_fft_ + int64_t(hop_) * (n_frames - 1), n_frames, g, work);
}

void StftPlan::analyse_group(const float* x, int64_t n, int64_t n_frames, int64_t g,
                             float* work) const {
  const int L = fft_lanes();
  gather_frames(x, n, 0, g * L, n_frames, n_fft_, hop_, window_.data(), work);
  fft_.forward_batch(work);
}

void StftPlan::analyse_group_at(const float* x, int64_t n, int64_t x0, int64_t n_frames,
                                int64_t g, float* work) const {
  const int L = fft_lanes();
  gather_frames(x, n, -x0, g * L, n_frames, n_fft_, hop_, window_.data(), work);
  fft_.forward_batch(work);
}

void StftPlan::synthesise_group(float* work, int64_t n_frames, int64_t g, float* y_full) const {
  synthesise_group_at(work, n_frames, g, y_full, 0);
}

void StftPlan::synthesise_group_at(float* work, int64_t n_frames, int64_t g, float* y,
                                   int64_t y0) const {
  const int L = fft_lanes();
  const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - g * L));
#ifdef FK_HAVE_AVX_TRANSPOSE
  if (packed_inverse()) {  // the same transform and overlap-add as istft's, so the same bits
    fft_.inverse_batch_packed(work, 1.0f / n_fft_, true);
    overlap_add_packed(work, n_fft_, hop_, lanes, window_.data(), y + (g * L * hop_ - y0));
    return;
  }
#endif
  fft_.inverse_batch(work, 1.0f / n_fft_);
  overlap_add_group(work, n_fft_, hop_, g * L, lanes, window_.data(), y, y0);
}

void StftPlan::normalise_envelope(float* y_full, int64_t n_frames, EnvelopeFloor fl) const {
  normalise_into(y_full, n_frames, fl, 0, n_fft_ + hop_ * (n_frames - 1), y_full);
}

void StftPlan::normalise_into(const float* y_full, int64_t n_frames, EnvelopeFloor fl,
                              int64_t from, int64_t count, float* out) const {
  normalise_span(y_full + from, n_frames, fl, from, count, out);
}

double StftPlan::envelope_at(int64_t j, int64_t n_frames) const {
  int64_t t_lo = std::max<int64_t>(0, (j - n_fft_ + hop_) / hop_);
  if (j - t_lo * hop_ >= n_fft_) ++t_lo;
  const int64_t t_hi = std::min<int64_t>(n_frames - 1, j / hop_);
  double s = 0.0;
  for (int64_t t = t_lo; t <= t_hi; ++t) {
    const float w = window_[j - t * hop_];
    s += double(w) * w;
  }
  return s;
}

double StftPlan::envelope_edge(int64_t j, int64_t n_frames) const {
  if (n_frames >= edge_table_frames_) {
    if (j < n_fft_ - 1) return head_env_[static_cast<size_t>(j)];
    const int64_t u = j - int64_t(hop_) * (n_frames - 1);
    if (u >= 0 && u < n_fft_) return tail_env_[static_cast<size_t>(u)];
  }
  return envelope_at(j, n_frames);
}

StftPlan::EdgeEnvelope StftPlan::edge_envelope(int64_t n_frames) const {
  EdgeEnvelope e;
  e.n_frames = n_frames;
  const int64_t total = n_fft_ + hop_ * (n_frames - 1);
  const int64_t lo = n_fft_ - 1, hi = hop_ * (n_frames - 1);
  e.head.resize(static_cast<size_t>(std::min(lo, total)));
  for (int64_t j = 0; j < static_cast<int64_t>(e.head.size()); ++j) e.head[j] = envelope_at(j, n_frames);
  e.tail_from = std::max(lo, hi + 1);
  e.tail.resize(static_cast<size_t>(std::max<int64_t>(0, total - e.tail_from)));
  for (int64_t j = e.tail_from; j < total; ++j) e.tail[j - e.tail_from] = envelope_at(j, n_frames);
  return e;
}

void StftPlan::normalise_span(const float* in, int64_t n_frames, EnvelopeFloor fl, int64_t from,
                              int64_t count, float* out, const EdgeEnvelope* edges) const {
  const double floor = envelope_floor(fl);
  // Interior [lo, hi]: every frame offset congruent to j mod hop is present.
  const int64_t lo = n_fft_ - 1, hi = hop_ * (n_frames - 1);
  if (edges && edges->n_frames != n_frames) edges = nullptr;
  const bool tables = n_frames >= edge_table_frames_;
  // Samples [a, b) outside the interior. The envelope there comes from `edges`, else from the
  // plan's tables, else is summed per sample (envelope_edge's choice); runs that read a table
  // are divided four at a time.
  auto edge_run = [&](int64_t a, int64_t b) {
    while (a < b) {
      const double* env = nullptr;
      int64_t stop = b;
      if (edges) {
        const int64_t nh = static_cast<int64_t>(edges->head.size());
        const int64_t tf = edges->tail_from, nt = static_cast<int64_t>(edges->tail.size());
        if (a < nh) {
          env = edges->head.data() + a;
          stop = std::min(b, nh);
        } else if (a >= tf && a - tf < nt) {
          env = edges->tail.data() + (a - tf);
          stop = std::min(b, tf + nt);
        }
      } else if (tables && a < n_fft_ - 1) {
        env = head_env_.data() + a;
        stop = std::min<int64_t>(b, n_fft_ - 1);
      } else if (tables && a - hi >= 0 && a - hi < n_fft_) {
        env = tail_env_.data() + (a - hi);
        stop = std::min(b, hi + n_fft_);
      }
      if (env) {
        divide_by_envelope(in + (a - from), env, stop - a, fl, floor, out + (a - from));
        a = stop;
        continue;
      }
      const double s = envelope_edge(a, n_frames);
      out[a - from] = divide_one(in[a - from], s, fl, floor);
      ++a;
    }
  };
  const int64_t end = from + count;
  int64_t j = from;
  {  // head (or everything when lo > hi)
    const int64_t e = (lo > hi || j > hi) ? end : std::min(end, std::max(j, lo));
    edge_run(j, e);
    j = e;
  }
  const float* inv = inv_env_.data();
  while (j < end && j <= hi) {  // whole periods, so the inner loop vectorises
    const int r0 = static_cast<int>(j % hop_);
    const int64_t len = std::min<int64_t>({hop_ - r0, hi + 1 - j, end - j});
    const float* yj = in + (j - from);
    float* oj = out + (j - from);
    const float* iv = inv + r0;
    for (int64_t q = 0; q < len; ++q) oj[q] = yj[q] * iv[q];
    j += len;
  }
  edge_run(j, end);  // tail
}

void StftPlan::stft(const float* x, int64_t n, cfloat* out) const {
  const int pad = n_fft_ / 2;
  if (n <= pad)
    throw Error(Status::InvalidArgument,
                "signal of " + std::to_string(n) + " samples is too short for n_fft " +
                    std::to_string(n_fft_) + " (reflect padding needs more than n_fft/2 samples)");
  const int64_t F = stft_frames(n, hop_);
  const int L = fft_lanes();
  float* work = scratch(static_cast<size_t>(n_fft_) * L, 0).work.data();
  for (int64_t g = 0; g < groups(F); ++g) {
    gather_frames(x, n, -pad, g * L, F, n_fft_, hop_, window_.data(), work);
    fft_.forward_batch(work);
    const int lanes = static_cast<int>(std::min<int64_t>(L, F - g * L));
    scatter_group(work, n_fft_, g * L, lanes, out);
  }
}

namespace {

// The inverse STFT, group by group. The overlap-add runs in a window one group long,
// (L - 1) * hop + n_fft samples: once a group is added, every sample before the next group's
// first frame is final, so it is normalised into y straight away, while in cache, and the
// window slides on. The same sums in the same order as adding everything into a whole-length
// buffer first, so the same bits. Where packed_inverse(), the transform and overlap-add are
// synthesise_group's too, so a spectrogram gives the same samples through either. Returns
// false when Check finds a NaN or Inf in S.
template <bool Check>
bool istft_impl(const StftPlan& p, const cfloat* S, SpecLayout lay, int64_t n_frames, float* y,
                int64_t length, EnvelopeFloor floor) {
  constexpr int L = kFftLanes;
  const int n_fft = p.n_fft(), hop = p.hop(), pad = n_fft / 2;
  const int64_t total = n_fft + int64_t(hop) * (n_frames - 1);
  const int64_t ncopy = std::max<int64_t>(0, std::min(length, total - pad));
  const int64_t out_end = pad + ncopy;  // y[i] is sample pad + i of the overlap-add
  const int64_t span = int64_t(L - 1) * hop + n_fft, step = int64_t(L) * hop;
  const int64_t keep = n_fft - hop;  // partial sums the next group adds to
  // pocketfft's temporary buffer from a per-thread arena rather than malloc on every group,
  // up to plans of n_fft 4096 (1 MB of arena); bigger ones keep allocating, as they did.
  const size_t fft_bytes = p.fft().scratch_bytes();
  const bool use_arena = fft_bytes <= (size_t(1) << 20);
  Scratch& sc = scratch(static_cast<size_t>(n_fft) * L, static_cast<size_t>(span),
                        use_arena ? fft_bytes : 0);
  float* buf = sc.y_full.data();  // buf[i] is sample base + i
  float* work = sc.work.data();
  std::optional<ScratchScope> arena;
  if (use_arena) arena.emplace(sc.fft_arena.data(), fft_bytes);
  const float scale = 1.0f / n_fft;
  const float* w = p.window().data();
  const int64_t G = p.groups(n_frames);
  const bool packed = p.packed_inverse();
  (void)packed;
  std::memset(buf, 0, sizeof(float) * keep);
  for (int64_t g = 0; g < G; ++g) {
    const int64_t t0 = g * L, base = t0 * hop;
    const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - t0));
    const int64_t reach = int64_t(lanes - 1) * hop + n_fft;
    std::memset(buf + keep, 0, sizeof(float) * (reach - keep));
#ifdef FK_HAVE_AVX_TRANSPOSE
    if (packed) {
      if (!gather_packed<Check>(S, lay, n_fft, t0, lanes, work) && Check) return false;
      p.fft().inverse_batch_packed(work, scale);
      overlap_add_packed(work, n_fft, hop, lanes, w, buf);
    } else
#endif
    {
      if (!gather_group<Check>(S, lay, n_fft, t0, lanes, work) && Check) return false;
      p.fft().inverse_batch(work, scale);
      overlap_add_group(work, n_fft, hop, 0, lanes, w, buf);
    }
    const int64_t final_end = g + 1 < G ? base + step : total;
    const int64_t a = std::max<int64_t>(base, pad), b = std::min(final_end, out_end);
    if (a < b) p.normalise_span(buf + (a - base), n_frames, floor, a, b - a, y + (a - pad));
    if (!Check && final_end >= out_end) break;  // later frames cannot reach y
    if (g + 1 < G) std::memmove(buf, buf + step, sizeof(float) * keep);
  }
  for (int64_t j = ncopy; j < length; ++j) y[j] = 0.0f;
  return true;
}

}  // namespace

void StftPlan::istft(const cfloat* S, SpecLayout lay, int64_t n_frames, float* y,
                     int64_t length, EnvelopeFloor floor) const {
  istft_impl<false>(*this, S, lay, n_frames, y, length, floor);
}

bool StftPlan::istft_checked(const cfloat* S, SpecLayout lay, int64_t n_frames, float* y,
                             int64_t length, EnvelopeFloor floor) const {
  return istft_impl<true>(*this, S, lay, n_frames, y, length, floor);
}

std::shared_ptr<const StftPlan> get_stft_plan(int n_fft, int hop) {
  validate_fft_params(n_fft, hop);
  static std::mutex mu;
  static std::map<std::pair<int, int>, std::shared_ptr<const StftPlan>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{n_fft, hop}];
  if (!slot) slot = std::make_shared<const StftPlan>(n_fft, hop);
  return slot;
}

}  // namespace fk::dsp

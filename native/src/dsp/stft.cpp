#include "dsp/stft.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
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

// Spectrogram (any layout) -> one group of interleaved half-complex frames.
inline void gather_group(const cfloat* S, SpecLayout lay, int n_fft, int64_t t0, int lanes,
                         float* work) {
  const int L = fft_lanes(), nb = n_fft / 2 + 1;
  if (lanes < L) std::memset(work, 0, sizeof(float) * n_fft * L);
  if (lay.frame == 1) {  // bin-major: the lanes of one bin are adjacent
    for (int l = 0; l < lanes; ++l) work[l] = S[t0 + l].real();
    for (int k = 1; k < nb - 1; ++k) {
      const cfloat* row = S + k * lay.bin + t0;
      float* re = work + (2 * k - 1) * L;
      for (int l = 0; l < lanes; ++l) {
        re[l] = row[l].real();
        re[L + l] = row[l].imag();
      }
    }
    const cfloat* last = S + (nb - 1) * lay.bin + t0;
    for (int l = 0; l < lanes; ++l) work[(n_fft - 1) * L + l] = last[l].real();
    return;
  }
#ifdef FK_HAVE_AVX_TRANSPOSE
  if (L == 8 && lanes == 8 && lay.bin == 1) {  // frame-major: transpose 8x8 blocks
    const float* rows[8];
    for (int l = 0; l < 8; ++l) rows[l] = reinterpret_cast<const float*>(S + (t0 + l) * lay.frame);
    int r = 1;
    for (; r + 8 <= n_fft - 1; r += 8) rows_to_lanes(rows, r + 1, work + r * 8, nullptr);
    for (int l = 0; l < 8; ++l) {
      for (int q = r; q <= n_fft - 2; ++q) work[q * 8 + l] = rows[l][q + 1];
      work[l] = rows[l][0];
      work[(n_fft - 1) * 8 + l] = rows[l][n_fft];
    }
    return;
  }
#endif
  for (int l = 0; l < lanes; ++l) {  // frame-major or strided: walk each frame
    const cfloat* col = S + (t0 + l) * lay.frame;
    work[l] = col[0].real();
    for (int k = 1; k < nb - 1; ++k) {
      const cfloat v = col[k * lay.bin];
      work[(2 * k - 1) * L + l] = v.real();
      work[2 * k * L + l] = v.imag();
    }
    work[(n_fft - 1) * L + l] = col[(nb - 1) * lay.bin].real();
  }
}

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

// Per-thread scratch reused across offline calls: a 10 s overlap-add buffer is 2 MB, and a
// fresh one per call costs page faults and zeroing that show in the benchmarks.
struct Scratch {
  AlignedFloats work;
  std::vector<float> y_full;
};
Scratch& scratch(size_t work_floats, size_t y_floats) {
  thread_local Scratch s;
  if (s.work.size() < work_floats) s.work.resize(work_floats);
  if (s.y_full.size() < y_floats) s.y_full.resize(y_floats);
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
  fft_.inverse_batch(work, 1.0f / n_fft_);
  const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - g * L));
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
  auto direct = [&](int64_t j) {
    double s;
    if (edges && j < static_cast<int64_t>(edges->head.size()))
      s = edges->head[j];
    else if (edges && j >= edges->tail_from &&
             j - edges->tail_from < static_cast<int64_t>(edges->tail.size()))
      s = edges->tail[j - edges->tail_from];
    else
      s = envelope_edge(j, n_frames);
    out[j - from] = fl == EnvelopeFloor::Exact
                        ? (s > floor ? static_cast<float>(in[j - from] / s) : 0.0f)
                        : static_cast<float>(in[j - from] / std::max(s, floor));
  };
  const int64_t end = from + count;
  int64_t j = from;
  for (; j < end && (j < lo || j > hi); ++j) direct(j);  // head (or everything when lo > hi)
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
  for (; j < end; ++j) direct(j);  // tail
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

void StftPlan::istft(const cfloat* S, SpecLayout lay, int64_t n_frames, float* y,
                     int64_t length, EnvelopeFloor floor) const {
  const int L = fft_lanes();
  const int64_t total = n_fft_ + hop_ * (n_frames - 1);
  Scratch& sc = scratch(static_cast<size_t>(n_fft_) * L, static_cast<size_t>(total));
  float* y_full = sc.y_full.data();
  float* work = sc.work.data();
  const int64_t G = groups(n_frames);
  const float scale = 1.0f / n_fft_;
  const float* w = window_.data();
  int64_t zeroed = 0;  // y_full is cleared just ahead of the overlap-add, while it is in cache
  for (int64_t g = 0; g < G; ++g) {
    const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - g * L));
    const int64_t reach = (g * L + lanes - 1) * hop_ + n_fft_;
    std::memset(y_full + zeroed, 0, sizeof(float) * (reach - zeroed));
    zeroed = reach;
    gather_group(S, lay, n_fft_, g * L, lanes, work);
    fft_.inverse_batch(work, scale);
    overlap_add_group(work, n_fft_, hop_, g * L, lanes, w, y_full);
  }
  // Normalise straight into the output: the discarded first n_fft/2 samples cost nothing.
  const int pad = n_fft_ / 2;
  const int64_t avail = std::max<int64_t>(0, total - pad);
  const int64_t ncopy = std::min(length, avail);
  if (ncopy > 0) normalise_into(y_full, n_frames, floor, pad, ncopy, y);
  for (int64_t j = std::max<int64_t>(ncopy, 0); j < length; ++j) y[j] = 0.0f;
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

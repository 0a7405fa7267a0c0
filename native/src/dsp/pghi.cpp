#include "dsp/pghi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dsp/phase_gradient.hpp"

namespace fk::dsp {

namespace {
// Frames integrated together. The heap is global within a block; a block starts from the
// settled last frame of the one before (as the streaming synthesizer starts from its previous
// frame). Bounding the working set keeps the cost linear and cache-resident: 128 frames of
// 513 bins are about 2 MB of state. Blocks end at quiet frames (see below).
constexpr int64_t kBlockFrames = 128;
constexpr int kBuckets = BucketQueue::kBuckets;

// A bin's integration state in one int16, so that the heap loop reads one value per
// neighbour: its bucket (bits 0-9), whether stepping from it to the next bin crosses a zero
// of a partial's Hann kernel (bit 10), and whether its phase is settled (the sign bit; quiet
// bins and the previous block's frame start settled).
constexpr int kBucketMask = 0x3ff;
constexpr int kFlipBit = 0x400;
constexpr int kSettled = -0x8000;
static_assert(BucketQueue::kBuckets == kBucketMask + 1, "bucket must fit the state's low bits");

// BucketQueue's order (highest bucket first, LIFO within a bucket) over the workspace's
// arrays, with the summary of non-empty words in a register: integration pops once per bin,
// and this loop is most of PGHI's time. Every bucket's list ends empty (head -1) when the
// queue does, so nothing needs clearing between floods or calls.
class Heap {
 public:
  static constexpr int kWords = kBuckets / 64;
  Heap(int32_t* head, int32_t* next) : head_(head), next_(next) {}
  bool empty() const { return top_ < 0; }
  void push(int32_t item, int bucket) {
    next_[item] = head_[bucket];
    head_[bucket] = item;
    const int w = bucket >> 6;
    used_[w] |= uint64_t(1) << (bucket & 63);
    summary_ |= 1u << w;
    top_ = std::max(top_, bucket);
  }
  // The item a pop would return now (-1 when empty): a hint for prefetching.
  int32_t peek() const { return top_ < 0 ? -1 : head_[top_]; }
  const int32_t* link(int32_t item) const { return next_ + item; }
  int32_t pop() {
    // The top bucket is kept in a register, so a pop starts without waiting on the bitmap
    // the last pushes wrote; the bitmap is searched only when a bucket runs empty.
    const int b = top_;
    const int32_t item = head_[b];
    const int32_t after = next_[item];
    head_[b] = after;
    if (after < 0) {
      const int w = b >> 6;
      used_[w] &= ~(uint64_t(1) << (b & 63));
      if (!used_[w]) summary_ &= ~(1u << w);
      top_ = summary_ ? highest_bit(summary_) * 64 + highest_bit(used_[highest_bit(summary_)]) : -1;
    }
    return item;
  }

 private:
  static_assert(kWords <= 32, "summary is one 32-bit word");
  int32_t* head_;
  int32_t* next_;
  uint64_t used_[kWords] = {};
  uint32_t summary_ = 0;
  int top_ = -1;  // highest non-empty bucket, -1 when empty
};

inline void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p);
#else
  (void)p;
#endif
}

// Settles seed_i (random phase) and integrates outwards from it and from whatever the queue
// holds, until the queue is empty. A function of its own, taking everything by value, so
// that the pointers and the queue's top stay in registers (a lambda capturing by reference
// reloads them through its closure on every pop). Indices are signed: a bin of the previous
// frame looks back into row -1. t0: the frame of local row 0.
void integrate(Heap& heap, int16_t* st, float* ph, const float* grad, const int32_t S,
               uint64_t seed, int64_t t0, int32_t seed_i) {
  Heap q = heap;
  auto settle = [&](int32_t j, int sj, float phase) {
    ph[j] = wrap_phase(phase);
    st[j] = static_cast<int16_t>(sj | kSettled);
    q.push(j, sj & kBucketMask);
  };
  const int32_t slt = seed_i / S;
  settle(seed_i, st[seed_i], hashed_phase(seed, t0 + slt, seed_i - slt * S));
  while (!q.empty()) {
    const int32_t i = q.pop();
    // The next pop is likely the bin on top now (unless a louder neighbour is pushed):
    // start loading its neighbour rows, the loads a pop otherwise waits for.
    if (const int32_t k = q.peek(); k >= 0) {
      prefetch(q.link(k));
      prefetch(st + k - S);
      prefetch(st + k + S);
      prefetch(grad + 3 * (k + S));
      prefetch(grad + 3 * (k - S));
    }
    // Often every neighbour is settled already: one test instead of four branches.
    if ((st[i + 1] & st[i - 1] & st[i + S] & st[i - S]) < 0) continue;
    const float p = ph[i];
    const float* gi = grad + 3 * i;
    const int si = st[i];
    // Up, down, forward, back; each reads the state after the previous one's write.
    const int sr = st[i + 1];
    if (sr >= 0) settle(i + 1, sr, p + 0.5f * (gi[1] + gi[4]) + ((si & kFlipBit) ? kPi : 0.0f));
    const int sl = st[i - 1];
    if (sl >= 0) settle(i - 1, sl, p - 0.5f * (gi[1] + gi[-2]) - ((sl & kFlipBit) ? kPi : 0.0f));
    const int sn = st[i + S];
    if (sn >= 0) settle(i + S, sn, p + 0.5f * (gi[0] + gi[3 * S]) + gi[2]);
    const int sp = st[i - S];
    if (sp >= 0) settle(i - S, sp, p - 0.5f * (gi[0] + gi[-3 * S]) - gi[2]);
  }
  heap = q;
}

// Seeds go in (descending bucket, ascending index) order. Nearly every loud bin is reached
// from the first seed, so rather than sorting the whole block up front, the first seed comes
// from a scan and only the bins still open after its flood are sorted. Scans go in chunks
// whose test vectorises; the few chunks that hit are searched one by one.
constexpr int kChunk = 32;

// Largest bucket among open bins of st[lo, end), -1 if none.
int max_open_bucket(const int16_t* st, int32_t lo, int32_t end) {
  int best = -1;
  for (int32_t i = lo; i < end; ++i) {
    const int s = st[i];
    best = std::max(best, s >= 0 ? (s & kBucketMask) : -1);
  }
  return best;
}

// First open bin of st[lo, end) in bucket b (which one holds).
int32_t first_open_in_bucket(const int16_t* st, int32_t lo, int32_t end, int b) {
  const int16_t a = static_cast<int16_t>(b), c = static_cast<int16_t>(b | kFlipBit);
  int32_t i = lo;
  for (; i + kChunk <= end; i += kChunk) {
    int hit = 0;
    for (int j = 0; j < kChunk; ++j) hit |= (st[i + j] == a) | (st[i + j] == c);
    if (hit) break;
  }
  for (; i < end; ++i)
    if (st[i] == a || st[i] == c) return i;
  return -1;
}
}  // namespace

namespace {
// Sizes of a workspace's arrays for n_frames frames of nb bins.
struct PghiSizes {
  size_t frames, logs, rows, nb;
  PghiSizes(int nb_, int64_t n_frames)
      : frames(static_cast<size_t>(n_frames)),
        logs(static_cast<size_t>(std::min(kBlockFrames, n_frames) + 2) * nb_),
        // Integration rows: a settled row before frame 0 and one after the block, each
        // nb + 1 wide with a settled last column (see pghi_phase).
        rows(static_cast<size_t>(std::min(kBlockFrames, n_frames) + 3) * (nb_ + 1)),
        nb(static_cast<size_t>(nb_)) {}
};
}  // namespace

// Buffers only grow, so a worker alternating between models keeps one workspace sized for
// the largest; only the phase advances follow the plan (recomputed when it changes).
void PghiWorkspace::reserve(const StftPlan& plan, int64_t n_frames) {
  if (fits(plan, n_frames)) return;
  if (plan.bins() != nb_ || plan.n_fft() != n_fft_ || plan.hop() != hop_) {
    adv_ = bin_advance(plan.bins(), plan.n_fft(), plan.hop());
    nb_ = plan.bins();
    n_fft_ = plan.n_fft();
    hop_ = plan.hop();
  }
  const PghiSizes z(nb_, n_frames);
  grow(frame_peak_, z.frames);
  grow(logs_, z.logs);
  grow(grad_, 3 * z.rows);
  grow(phase_, z.rows);
  grow(state_, z.rows);
  grow(order_, z.rows);
  grow(seeds_, z.rows);
  grow(next_, z.rows);
  grow(owner_, z.nb);
  grow(tg_row_, z.nb);
  grow(fg_row_, z.nb);
  grow(flip_row_, z.nb);
  grow(count_, size_t(kBuckets));
  if (head_.empty()) head_.assign(kBuckets, -1);  // and -1 again whenever the queue empties
}

bool PghiWorkspace::fits(const StftPlan& plan, int64_t n_frames) const {
  if (plan.bins() != nb_ || plan.n_fft() != n_fft_ || plan.hop() != hop_ || n_frames < 1)
    return false;
  const PghiSizes z(nb_, n_frames);
  return frame_peak_.size() >= z.frames && logs_.size() >= z.logs && state_.size() >= z.rows &&
         owner_.size() >= z.nb && !head_.empty();
}

void pghi_phase(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t F, float tol,
                uint64_t seed, float* P) {
  PghiWorkspace ws;
  pghi_phase(plan, mag, lay, F, tol, seed, P, ws);
}

void pghi_phase(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t F, float tol,
                uint64_t seed, float* P, PghiWorkspace& ws, PghiProgress progress) {
  ws.reserve(plan, F);
  const int nb = plan.bins(), n_fft = plan.n_fft(), hop = plan.hop();
  const double gamma = hann_gamma(n_fft);
  // The threshold is relative to the loudest bin of the whole spectrogram.
  float* frame_peak = ws.frame_peak_.data();
  if (lay.frame == 1) {  // bin-major: walk rows, so the loop vectorises (max is exact either way)
    std::fill(frame_peak, frame_peak + F, 0.0f);
    for (int m = 0; m < nb; ++m) {
      const float* row = mag + m * lay.bin;
      for (int64_t t = 0; t < F; ++t) frame_peak[t] = std::max(frame_peak[t], row[t]);
    }
  } else {
    for (int64_t t = 0; t < F; ++t) {
      float fp = 0.0f;
      for (int m = 0; m < nb; ++m) fp = std::max(fp, mag[t * lay.frame + m * lay.bin]);
      frame_peak[t] = fp;
    }
  }
  float maxmag = 0.0f;
  for (int64_t t = 0; t < F; ++t) maxmag = std::max(maxmag, frame_peak[t]);
  const float maxlog = fast_log(std::max(maxmag, 1e-30f));
  const float range = -std::log(tol);
  const float thresh = maxlog - range, inv_range = 1.0f / range;
  const float* adv = ws.adv_.data();

  // Local frame 0 is the frame before the block (settled), 1..B the block's frames, and
  // B+1 the frame after it (its log-magnitude only, for the centred difference).
  const int64_t Bmax = std::min<int64_t>(kBlockFrames, F);
  float* logs = ws.logs_.data();
  int32_t* count = ws.count_.data();
  int32_t* order = ws.order_.data();
  float* tgr = ws.tg_row_.data();
  float* fgr = ws.fg_row_.data();
  uint8_t* flr = ws.flip_row_.data();
  // Integration state, frame-major with rows S = nb + 1 wide: local frame lt, bin m at
  // lt * S + m, for lt = -1 .. B + 1. Row -1, row B + 1 and column nb are settled sentinels,
  // so stepping to a neighbour needs no range check (the previous frame's bins, also
  // settled, then only ever step forward, as they should). Per bin: the time gradient, the
  // frequency gradient and the bin's phase advance side by side (grad), the state (st), the
  // phase (ph, copied out per block).
  const int S = nb + 1;
  float* grad = ws.grad_.data() + 3 * S;
  int16_t* st = ws.state_.data() + S;
  float* ph = ws.phase_.data() + S;
  std::fill(st - S, st + S, static_cast<int16_t>(kSettled));  // rows -1 and 0

  for (int64_t b0 = 0, B = 0; b0 < F; b0 += B) {
    // End the block at the quietest frame of its second half, so that seams fall in quiet
    // places rather than on onsets.
    B = std::min(b0 == 0 ? std::min(kPghiFirstBlockFrames, Bmax) : Bmax, F - b0);
    if (b0 + B < F) {
      int64_t best = b0 + B - 1;
      for (int64_t t = b0 + B / 2; t < b0 + B; ++t)
        if (frame_peak[t] < frame_peak[best]) best = t;
      B = best - b0 + 1;
    }
    const bool has_prev = b0 > 0;
    // Log-magnitudes of frames b0 .. b0+B (local 1 .. B+1; past the end the last frame
    // repeats). Local frame 0, the previous block's last, was kept with its gradient.
    for (int64_t lt = 1; lt <= B + 1; ++lt) {
      const int64_t t = std::min<int64_t>(b0 - 1 + lt, F - 1);
      log_magnitudes(mag + t * lay.frame, nb, lay.bin, logs + lt * nb);
    }
    for (int64_t lt = 1; lt <= B; ++lt) {
      const float* sl = logs + lt * nb;
      time_gradient(sl, nb, n_fft, hop, gamma, tgr);
      peak_lock(sl, nb, n_fft, hop, thresh, ws.owner_.data(), flr, tgr);
      // Centred difference; at the signal's ends the edge frame is repeated.
      const float* sp = logs + (has_prev || lt > 1 ? lt - 1 : lt) * nb;
      const float* sn = logs + (lt + 1) * nb;
      freq_gradient(sp, sn, 2.0f, nb, n_fft, hop, gamma, fgr);
      // Interleave, and build the states (quiet bins settled, with their random phase).
      float* gl = grad + 3 * lt * S;
      int16_t* stl = st + lt * S;
      for (int m = 0; m < nb; ++m) {
        gl[3 * m] = tgr[m];
        gl[3 * m + 1] = fgr[m];
        gl[3 * m + 2] = adv[m];
        const int s = bucket_of(sl[m], thresh, inv_range) | (flr[m] ? kFlipBit : 0);
        stl[m] = static_cast<int16_t>(sl[m] > thresh ? s : s | kSettled);
      }
      stl[nb] = static_cast<int16_t>(kSettled);
      const int64_t t = b0 - 1 + lt;
      float* pl = ph + lt * S;
      for (int m = 0; m < nb; ++m)
        if (stl[m] < 0) pl[m] = hashed_phase(seed, t, m);
    }
    std::fill(st + (B + 1) * S, st + (B + 2) * S, static_cast<int16_t>(kSettled));

    Heap q(ws.head_.data(), ws.next_.data());
    if (has_prev)
      for (int m = 0; m < nb; ++m)
        if (logs[m] > thresh) q.push(m, bucket_of(logs[m], thresh, inv_range));

    auto flood = [&](int32_t seed_i) { integrate(q, st, ph, grad, S, seed, b0 - 1, seed_i); };
    const int32_t lo = S, end = static_cast<int32_t>((B + 1) * S);
    const int top = max_open_bucket(st, lo, end);
    if (top >= 0) {
      flood(first_open_in_bucket(st, lo, end, top));
      // The bins still open, in index order, then stably by descending bucket.
      int32_t n_open = 0;
      for (int32_t i = lo; i < end; i += kChunk) {
        const int32_t e = std::min(end, i + kChunk);
        int any = 0;
        for (int32_t j = i; j < e; ++j) any |= st[j] >= 0;
        if (!any) continue;
        for (int32_t j = i; j < e; ++j)
          if (st[j] >= 0) order[n_open++] = j;
      }
      if (n_open > 0) {
        int32_t* sorted = ws.seeds_.data();
        std::fill(count, count + kBuckets, 0);
        for (int32_t k = 0; k < n_open; ++k) ++count[kBuckets - 1 - (st[order[k]] & kBucketMask)];
        for (int k = 0, acc = 0; k < kBuckets; ++k) {
          const int c = count[k];
          count[k] = acc;
          acc += c;
        }
        for (int32_t k = 0; k < n_open; ++k)
          sorted[count[kBuckets - 1 - (st[order[k]] & kBucketMask)]++] = order[k];
        for (int32_t k = 0; k < n_open; ++k)
          if (st[sorted[k]] >= 0) flood(sorted[k]);
      }
    } else if (has_prev) {
      // Nothing loud in the block: the previous frame's bins have nowhere to go. Emptying
      // the queue restores its lists for the next block.
      while (!q.empty()) q.pop();
    }
    for (int64_t lt = 1; lt <= B; ++lt)
      std::copy(ph + lt * S, ph + lt * S + nb, P + (b0 - 1 + lt) * nb);
    if (progress.fn) progress.fn(progress.user, b0 + B);
    // The block's last frame becomes the next block's frame 0.
    if (b0 + B < F) {
      std::copy(logs + B * nb, logs + (B + 1) * nb, logs);
      std::copy(grad + 3 * B * S, grad + 3 * (B + 1) * S, grad);
      std::copy(ph + B * S, ph + (B + 1) * S, ph);
    }
  }
}

void apply_phase(const StftPlan& plan, const float* mag, SpecLayout lay, const float* P,
                 int64_t F, cfloat* S) {
  const int nb = plan.bins();
  for (int64_t t = 0; t < F; ++t) {
    const float* mcol = mag + t * lay.frame;
    const float* pt = P + t * nb;
    cfloat* st = S + t * nb;
    for (int m = 0; m < nb; ++m) {
      float s, c;
      sincos_wrapped(pt[m], &s, &c);
      // (-1)^m: centred -> frame-start convention
      const float a = (m & 1) ? -mcol[m * lay.bin] : mcol[m * lay.bin];
      st[m] = cfloat(a * c, a * s);
    }
  }
}

}  // namespace fk::dsp

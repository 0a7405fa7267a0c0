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
}  // namespace

void pghi_phase(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t F, float tol,
                uint64_t seed, float* P) {
  const int nb = plan.bins(), n_fft = plan.n_fft(), hop = plan.hop();
  const double gamma = hann_gamma(n_fft);
  // The threshold is relative to the loudest bin of the whole spectrogram.
  float maxmag = 0.0f;
  std::vector<float> frame_peak(F, 0.0f);
  for (int64_t t = 0; t < F; ++t) {
    float fp = 0.0f;
    for (int m = 0; m < nb; ++m) fp = std::max(fp, mag[t * lay.frame + m * lay.bin]);
    frame_peak[t] = fp;
    maxmag = std::max(maxmag, fp);
  }
  const float maxlog = fast_log(std::max(maxmag, 1e-30f));
  const float range = -std::log(tol);
  const float thresh = maxlog - range, inv_range = 1.0f / range;
  const std::vector<float> adv = bin_advance(nb, n_fft, hop);

  // Local frame 0 is the frame before the block (settled), 1..B the block's frames, and
  // B+1 the frame after it (its log-magnitude only, for the centred difference).
  const int64_t Bmax = std::min<int64_t>(kBlockFrames, F);
  const size_t cap = static_cast<size_t>(Bmax + 2) * nb;
  std::vector<float> logs(cap), tg(cap), fg(cap);
  std::vector<uint8_t> flip(cap), done(cap);
  std::vector<int16_t> bucket(cap);
  std::vector<int32_t> owner(nb), count(BucketQueue::kBuckets + 1), order(cap);
  BucketQueue q(cap);

  for (int64_t b0 = 0, B = 0; b0 < F; b0 += B) {
    // End the block at the quietest frame of its second half, so that seams fall in quiet
    // places rather than on onsets.
    B = std::min(Bmax, F - b0);
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
      log_magnitudes(mag + t * lay.frame, nb, lay.bin, logs.data() + lt * nb);
    }
    for (int64_t lt = 1; lt <= B; ++lt) {
      float* tgl = tg.data() + lt * nb;
      time_gradient(logs.data() + lt * nb, nb, n_fft, hop, gamma, tgl);
      peak_lock(logs.data() + lt * nb, nb, n_fft, hop, thresh, owner.data(),
                flip.data() + lt * nb, tgl);
      // Centred difference; at the signal's ends the edge frame is repeated.
      const float* sp = logs.data() + (has_prev || lt > 1 ? lt - 1 : lt) * nb;
      const float* sn = logs.data() + (lt + 1) * nb;
      freq_gradient(sp, sn, 2.0f, nb, n_fft, hop, gamma, fg.data() + lt * nb);
    }

    // Settle quiet bins, bucket the rest, and order seeds by descending bucket.
    std::fill(count.begin(), count.end(), 0);
    int64_t live = 0;
    for (int m = 0; m < nb; ++m) done[m] = 1;  // the previous frame is fixed
    for (int64_t lt = 1; lt <= B; ++lt) {
      const int64_t t = b0 - 1 + lt;
      for (int m = 0; m < nb; ++m) {
        const size_t i = lt * nb + m;
        if (!(logs[i] > thresh)) {
          P[t * nb + m] = hashed_phase(seed, t, m);
          done[i] = 1;
          continue;
        }
        done[i] = 0;
        const int bk = bucket_of(logs[i], thresh, inv_range);
        bucket[i] = static_cast<int16_t>(bk);
        ++count[BucketQueue::kBuckets - 1 - bk];
        ++live;
      }
    }
    for (int bk = 0, acc = 0; bk <= BucketQueue::kBuckets; ++bk) {
      const int c = count[bk];
      count[bk] = acc;
      acc += c;
    }
    for (size_t i = nb; i < static_cast<size_t>(B + 1) * nb; ++i)
      if (!done[i]) order[count[BucketQueue::kBuckets - 1 - bucket[i]]++] = static_cast<int32_t>(i);

    q.clear();
    if (has_prev)
      for (int m = 0; m < nb; ++m)
        if (logs[m] > thresh) q.push(m, bucket_of(logs[m], thresh, inv_range));

    const int64_t base = (b0 - 1) * nb;  // local index i <-> P[base + i]
    auto settle = [&](size_t j, float phase) {
      P[base + static_cast<int64_t>(j)] = wrap_phase(phase);
      done[j] = 1;
      q.push(static_cast<int32_t>(j), bucket[j]);
    };
    const size_t end = static_cast<size_t>(B + 1) * nb;
    for (int64_t sidx = 0; sidx < live; ++sidx) {
      const size_t seed_i = order[sidx];
      if (done[seed_i]) continue;
      const int64_t lt = seed_i / nb;
      settle(seed_i, hashed_phase(seed, b0 - 1 + lt, static_cast<int>(seed_i - lt * nb)));
      while (!q.empty()) {
        const size_t i = q.pop();
        const int m = static_cast<int>(i % nb);
        const float p = P[base + static_cast<int64_t>(i)];
        if (i < static_cast<size_t>(nb)) {  // previous block's frame: forward in time only
          if (!done[i + nb]) settle(i + nb, p + 0.5f * (tg[i] + tg[i + nb]) + adv[m]);
          continue;
        }
        if (m + 1 < nb && !done[i + 1])
          settle(i + 1, p + 0.5f * (fg[i] + fg[i + 1]) + (flip[i] ? kPi : 0.0f));
        if (m > 0 && !done[i - 1])
          settle(i - 1, p - 0.5f * (fg[i] + fg[i - 1]) - (flip[i - 1] ? kPi : 0.0f));
        if (i + nb < end && !done[i + nb]) settle(i + nb, p + 0.5f * (tg[i] + tg[i + nb]) + adv[m]);
        if (!done[i - nb]) settle(i - nb, p - 0.5f * (tg[i] + tg[i - nb]) - adv[m]);
      }
    }
    // The block's last frame becomes the next block's frame 0.
    if (b0 + B < F) {
      std::copy(logs.begin() + B * nb, logs.begin() + (B + 1) * nb, logs.begin());
      std::copy(tg.begin() + B * nb, tg.begin() + (B + 1) * nb, tg.begin());
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

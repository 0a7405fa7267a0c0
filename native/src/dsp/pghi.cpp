#include "dsp/pghi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dsp/phase_gradient.hpp"

namespace fk::dsp {

void pghi_phase(const StftPlan& plan, const float* mag, int64_t F, float tol, uint64_t seed,
                float* P) {
  const int nb = plan.bins(), n_fft = plan.n_fft(), hop = plan.hop();
  const int64_t N = F * nb;
  const double gamma = hann_gamma(n_fft);
  std::vector<float> logs(N);
  float maxlog = -std::numeric_limits<float>::infinity();
  for (int64_t t = 0; t < F; ++t) {
    log_magnitudes(mag + t, nb, F, logs.data() + t * nb);
    for (int m = 0; m < nb; ++m) maxlog = std::max(maxlog, logs[t * nb + m]);
  }
  const float range = -std::log(tol);
  const float thresh = maxlog - range, inv_range = 1.0f / range;
  std::vector<float> tg(N), fg(N);
  std::vector<uint8_t> flip(N);
  std::vector<int32_t> owner(nb);
  for (int64_t t = 0; t < F; ++t) {
    time_gradient(logs.data() + t * nb, nb, n_fft, hop, gamma, tg.data() + t * nb);
    peak_lock(logs.data() + t * nb, nb, n_fft, hop, thresh, owner.data(), flip.data() + t * nb,
              tg.data() + t * nb);
    // Centred difference; at the ends the edge frame is repeated (s[-1] = s[0]).
    const int64_t tp = t > 0 ? t - 1 : t, tn = t + 1 < F ? t + 1 : t;
    freq_gradient(logs.data() + tp * nb, logs.data() + tn * nb, 2.0f, nb, n_fft, hop, gamma,
                  fg.data() + t * nb);
  }
  const std::vector<float> adv = bin_advance(nb, n_fft, hop);

  std::vector<uint8_t> done(N, 0);
  // Seeds in descending order of bucket (counting sort), for when the queue runs dry.
  std::vector<int32_t> count(BucketQueue::kBuckets + 1, 0), order;
  std::vector<int16_t> bucket(N);
  int64_t live = 0;
  for (int64_t i = 0; i < N; ++i) {
    const int64_t t = i / nb;
    const int m = static_cast<int>(i - t * nb);
    if (!(logs[i] > thresh)) {
      P[i] = hashed_phase(seed, t, m);
      done[i] = 1;
      continue;
    }
    const int b = bucket_of(logs[i], thresh, inv_range);
    bucket[i] = static_cast<int16_t>(b);
    ++count[BucketQueue::kBuckets - 1 - b];
    ++live;
  }
  order.resize(live);
  for (int b = 0, acc = 0; b <= BucketQueue::kBuckets; ++b) {
    const int c = count[b];
    count[b] = acc;
    acc += c;
  }
  for (int64_t i = 0; i < N; ++i)
    if (!done[i]) order[count[BucketQueue::kBuckets - 1 - bucket[i]]++] = static_cast<int32_t>(i);

  BucketQueue q(static_cast<size_t>(N));
  auto settle = [&](int64_t j, float phase) {
    P[j] = wrap_phase(phase);
    done[j] = 1;
    q.push(static_cast<int32_t>(j), bucket[j]);
  };
  for (int64_t s = 0; s < live; ++s) {
    const int64_t seed_i = order[s];
    if (done[seed_i]) continue;
    const int64_t st = seed_i / nb;
    settle(seed_i, hashed_phase(seed, st, static_cast<int>(seed_i - st * nb)));
    while (!q.empty()) {
      const int64_t i = q.pop();
      const int64_t t = i / nb;
      const int m = static_cast<int>(i - t * nb);
      const float p = P[i];
      if (m + 1 < nb && !done[i + 1])
        settle(i + 1, p + 0.5f * (fg[i] + fg[i + 1]) + (flip[i] ? kPi : 0.0f));
      if (m > 0 && !done[i - 1])
        settle(i - 1, p - 0.5f * (fg[i] + fg[i - 1]) - (flip[i - 1] ? kPi : 0.0f));
      if (t + 1 < F && !done[i + nb]) settle(i + nb, p + 0.5f * (tg[i] + tg[i + nb]) + adv[m]);
      if (t > 0 && !done[i - nb]) settle(i - nb, p - 0.5f * (tg[i] + tg[i - nb]) - adv[m]);
    }
  }
}

void apply_phase(const StftPlan& plan, const float* mag, const float* P, int64_t F, cfloat* S) {
  const int nb = plan.bins();
  for (int m = 0; m < nb; ++m) {
    const float sign = (m & 1) ? -1.0f : 1.0f;  // centred -> frame-start convention
    const float* mrow = mag + m * F;
    cfloat* srow = S + m * F;
    for (int64_t t = 0; t < F; ++t) {
      float s, c;
      sincos_wrapped(P[t * nb + m], &s, &c);
      const float a = sign * mrow[t];
      srow[t] = cfloat(a * c, a * s);
    }
  }
}

}  // namespace fk::dsp

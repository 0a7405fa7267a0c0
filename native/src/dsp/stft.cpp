#include "dsp/stft.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "dsp/error.hpp"

namespace fk::dsp {

namespace {
constexpr int kMinFft = 16;
constexpr int kMaxFft = 65536;
constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr float kEnvelopeFloor = 1e-11f;  // torch.istft's threshold
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
  inv_env_.assign(hop, 0.0f);
  for (int r = 0; r < hop; ++r) {
    double s = 0.0;
    for (int i = r; i < n_fft; i += hop) s += double(window_[i]) * window_[i];
    inv_env_[r] = s > kEnvelopeFloor ? static_cast<float>(1.0 / s) : 0.0f;
  }
}

int64_t StftPlan::groups(int64_t n_frames) const {
  const int L = fft_lanes();
  return (n_frames + L - 1) / L;
}

namespace {

// Gather frames [t0, t0+L) of xp, windowed, into the interleaved work buffer.
inline void gather_frames(const float* xp, int64_t t0, int64_t n_frames, int n_fft, int hop,
                          const float* w, float* work) {
  const int L = fft_lanes();
  for (int l = 0; l < L; ++l) {
    const int64_t t = t0 + l;
    if (t < n_frames) {
      const float* src = xp + t * hop;
      for (int i = 0; i < n_fft; ++i) work[i * L + l] = src[i] * w[i];
    } else {
      for (int i = 0; i < n_fft; ++i) work[i * L + l] = 0.0f;
    }
  }
}

}  // namespace

void StftPlan::analyse(const float* xp, int64_t n_frames, float* hc) const {
  const int L = fft_lanes();
  const int64_t G = groups(n_frames);
  for (int64_t g = 0; g < G; ++g) {
    float* work = hc + g * n_fft_ * L;
    gather_frames(xp, g * L, n_frames, n_fft_, hop_, window_.data(), work);
    fft_.forward_batch(work);
  }
}

void StftPlan::to_hc(const cfloat* S, int64_t n_frames, float* hc) const {
  const int L = fft_lanes();
  const int64_t G = groups(n_frames);
  const int nb = bins();
  for (int64_t g = 0; g < G; ++g) {
    float* work = hc + g * n_fft_ * L;
    const int64_t t0 = g * L;
    const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - t0));
    if (lanes < L) std::memset(work, 0, sizeof(float) * n_fft_ * L);
    for (int l = 0; l < lanes; ++l) {
      const int64_t t = t0 + l;
      work[l] = S[t].real();
      for (int k = 1; k < nb - 1; ++k) {
        const cfloat v = S[k * n_frames + t];
        work[(2 * k - 1) * L + l] = v.real();
        work[(2 * k) * L + l] = v.imag();
      }
      work[(n_fft_ - 1) * L + l] = S[(nb - 1) * n_frames + t].real();
    }
  }
}

void StftPlan::from_hc(const float* hc, int64_t n_frames, cfloat* S) const {
  const int L = fft_lanes();
  const int64_t G = groups(n_frames);
  const int nb = bins();
  for (int64_t g = 0; g < G; ++g) {
    const float* work = hc + g * n_fft_ * L;
    const int64_t t0 = g * L;
    const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - t0));
    for (int l = 0; l < lanes; ++l) {
      const int64_t t = t0 + l;
      S[t] = cfloat(work[l], 0.0f);
      for (int k = 1; k < nb - 1; ++k)
        S[k * n_frames + t] = cfloat(work[(2 * k - 1) * L + l], work[(2 * k) * L + l]);
      S[(nb - 1) * n_frames + t] = cfloat(work[(n_fft_ - 1) * L + l], 0.0f);
    }
  }
}

void StftPlan::normalise_envelope(float* y_full, int64_t n_frames) const {
  const int64_t total = n_fft_ + hop_ * (n_frames - 1);
  // Interior: every frame offset congruent to j mod hop is present.
  const int64_t lo = n_fft_ - 1, hi = hop_ * (n_frames - 1);
  auto direct = [&](int64_t j) {
    int64_t t_lo = std::max<int64_t>(0, (j - n_fft_ + hop_) / hop_);
    if (j - t_lo * hop_ >= n_fft_) ++t_lo;
    const int64_t t_hi = std::min<int64_t>(n_frames - 1, j / hop_);
    double s = 0.0;
    for (int64_t t = t_lo; t <= t_hi; ++t) {
      const float w = window_[j - t * hop_];
      s += double(w) * w;
    }
    y_full[j] = s > kEnvelopeFloor ? static_cast<float>(y_full[j] / s) : 0.0f;
  };
  if (lo > hi) {
    for (int64_t j = 0; j < total; ++j) direct(j);
    return;
  }
  for (int64_t j = 0; j < lo; ++j) direct(j);
  int64_t j = lo;
  int r = static_cast<int>(j % hop_);
  const float* inv = inv_env_.data();
  for (; j <= hi; ++j) {
    y_full[j] *= inv[r];
    if (++r == hop_) r = 0;
  }
  for (j = hi + 1; j < total; ++j) direct(j);
}

void StftPlan::synthesise(const float* hc, int64_t n_frames, float* y_full, float* work) const {
  const int L = fft_lanes();
  const int64_t G = groups(n_frames);
  const int64_t total = n_fft_ + hop_ * (n_frames - 1);
  std::memset(y_full, 0, sizeof(float) * total);
  const float scale = 1.0f / n_fft_;
  const float* w = window_.data();
  for (int64_t g = 0; g < G; ++g) {
    std::memcpy(work, hc + g * n_fft_ * L, sizeof(float) * n_fft_ * L);
    fft_.inverse_batch(work, scale);
    const int64_t t0 = g * L;
    const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - t0));
    for (int l = 0; l < lanes; ++l) {
      float* dst = y_full + (t0 + l) * hop_;
      for (int i = 0; i < n_fft_; ++i) dst[i] += work[i * L + l] * w[i];
    }
  }
  normalise_envelope(y_full, n_frames);
}

void StftPlan::stft(const float* x, int64_t n, cfloat* out) const {
  const int pad = n_fft_ / 2;
  if (n <= pad)
    throw Error(Status::InvalidArgument,
                "signal of " + std::to_string(n) + " samples is too short for n_fft " +
                    std::to_string(n_fft_) + " (reflect padding needs more than n_fft/2 samples)");
  const int64_t F = stft_frames(n, hop_);
  std::vector<float> xp(static_cast<size_t>(n + 2 * pad));
  for (int64_t j = 0; j < n + 2 * pad; ++j) {
    int64_t idx = j - pad;
    if (idx < 0) idx = -idx;
    if (idx >= n) idx = 2 * (n - 1) - idx;
    xp[j] = x[idx];
  }
  const int L = fft_lanes();
  AlignedFloats work(static_cast<size_t>(n_fft_) * L);
  const int64_t G = groups(F);
  const int nb = bins();
  for (int64_t g = 0; g < G; ++g) {
    gather_frames(xp.data(), g * L, F, n_fft_, hop_, window_.data(), work.data());
    fft_.forward_batch(work.data());
    const int64_t t0 = g * L;
    const int lanes = static_cast<int>(std::min<int64_t>(L, F - t0));
    const float* wk = work.data();
    for (int l = 0; l < lanes; ++l) {
      const int64_t t = t0 + l;
      out[t] = cfloat(wk[l], 0.0f);
      for (int k = 1; k < nb - 1; ++k)
        out[k * F + t] = cfloat(wk[(2 * k - 1) * L + l], wk[(2 * k) * L + l]);
      out[(nb - 1) * F + t] = cfloat(wk[(n_fft_ - 1) * L + l], 0.0f);
    }
  }
}

void StftPlan::istft(const cfloat* S, int64_t n_frames, float* y, int64_t length) const {
  const int L = fft_lanes();
  const int64_t total = n_fft_ + hop_ * (n_frames - 1);
  std::vector<float> y_full(static_cast<size_t>(total));
  AlignedFloats work(static_cast<size_t>(n_fft_) * L);
  const int64_t G = groups(n_frames);
  const float scale = 1.0f / n_fft_;
  const float* w = window_.data();
  // Gather one group at a time (to_hc works on whole spectrograms; this avoids a copy).
  const int nb = bins();
  for (int64_t g = 0; g < G; ++g) {
    float* wk = work.data();
    const int64_t t0 = g * L;
    const int lanes = static_cast<int>(std::min<int64_t>(L, n_frames - t0));
    if (lanes < L) work.zero();
    for (int l = 0; l < lanes; ++l) {
      const int64_t t = t0 + l;
      wk[l] = S[t].real();
      for (int k = 1; k < nb - 1; ++k) {
        const cfloat v = S[k * n_frames + t];
        wk[(2 * k - 1) * L + l] = v.real();
        wk[(2 * k) * L + l] = v.imag();
      }
      wk[(n_fft_ - 1) * L + l] = S[(nb - 1) * n_frames + t].real();
    }
    fft_.inverse_batch(wk, scale);
    for (int l = 0; l < lanes; ++l) {
      float* dst = y_full.data() + (t0 + l) * hop_;
      for (int i = 0; i < n_fft_; ++i) dst[i] += wk[i * L + l] * w[i];
    }
  }
  normalise_envelope(y_full.data(), n_frames);
  const int pad = n_fft_ / 2;
  const int64_t avail = std::max<int64_t>(0, total - pad);
  const int64_t ncopy = std::min(length, avail);
  if (ncopy > 0) std::memcpy(y, y_full.data() + pad, sizeof(float) * ncopy);
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

// Building blocks of phase-gradient heap integration (Průša, Balazs, Søndergaard 2017;
// Průša & Holighaus 2017 for the real-time variant): phase derivatives estimated from the
// log-magnitude, a bucket queue that replaces the heap, and cheap wrapped sin/cos.
//
// Phase convention: phases are computed relative to each window's centre; a frame-start
// FFT (our STFT) differs from that by pi*k on bin k, applied when spectra are built.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fk::dsp {

constexpr float kPi = 3.14159265358979f;
constexpr float kTwoPiF = 6.28318530717959f;

// Gaussian-equivalent time-frequency spread of a periodic Hann window of length n:
// gamma = 0.25645 * n^2 (Průša et al. 2017, table 1).
inline double hann_gamma(int n) { return 0.25645 * double(n) * double(n); }

// Default relative tolerance: bins 80 dB below the loudest get random phase instead of
// being integrated. Measured on the test signals: 1e-4 and 1e-5 give the same spectral
// convergence within 0.3 dB, and 1e-4 makes streaming about a third cheaper on impacts
// (decaying tails drop out of the heap sooner).
constexpr float kPghiTolerance = 1e-4f;

// Wrap to [-pi, pi).
inline float wrap_phase(float p) { return p - kTwoPiF * std::floor((p + kPi) * (1.0f / kTwoPiF)); }

// sin and cos of a phase in [-pi, pi], max error about 1e-7 (Taylor series to x^11 after
// folding into [-pi/2, pi/2]).
inline void sincos_wrapped(float x, float* s, float* c) {
  // Fold into [-pi/2, pi/2] for sin; cos = sin(x + pi/2).
  auto sin_fold = [](float a) {
    if (a > 0.5f * kPi) a = kPi - a;
    else if (a < -0.5f * kPi) a = -kPi - a;
    const float a2 = a * a;
    return a * (1.0f + a2 * (-1.6666667e-1f + a2 * (8.3333333e-3f + a2 * (-1.9841270e-4f +
                a2 * (2.7557319e-6f - a2 * 2.5052108e-8f)))));
  };
  *s = sin_fold(x);
  float xc = x + 0.5f * kPi;
  if (xc >= kPi) xc -= kTwoPiF;
  *c = sin_fold(xc);
}

// Branch-free float approximations for the per-bin loops (they vectorise; libm's do not).
// fast_log: |error| < 1e-6 for normal positive x. fast_exp_neg: e^x for x <= 0, relative
// error < 3e-7 (clamped at e^-87). fast_atan: |error| < 1e-5.
inline float fast_log(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  int e = static_cast<int>((bits >> 23) & 0xff) - 127;
  bits = (bits & 0x007fffffu) | 0x3f800000u;  // mantissa in [1, 2)
  float m;
  std::memcpy(&m, &bits, 4);
  const bool big = m > 1.41421356f;  // selects, not branches, so loops vectorise
  m = big ? 0.5f * m : m;
  e += big ? 1 : 0;
  const float z = (m - 1.0f) / (m + 1.0f), z2 = z * z;  // |z| < 0.172
  const float atanh2 = 2.0f * z * (1.0f + z2 * (1.0f / 3 + z2 * (1.0f / 5 + z2 * (1.0f / 7 + z2 * (1.0f / 9)))));
  return atanh2 + static_cast<float>(e) * 0.69314718f;
}

inline float fast_exp_neg(float x) {
  x = x < -87.0f ? -87.0f : x;  // e^-87 ~ 1.6e-38: close enough to 0, keeps the loop branch-free
  const float t = x * 1.44269504f;  // log2(e)
  const float fl = std::floor(t);
  const float f = t - fl;  // [0, 1)
  const float p = 1.0f + f * (0.69314718f + f * (0.24022650f + f * (0.05550411f + f * (0.00961813f +
                  f * (0.00133336f + f * 0.00015403f)))));
  const int32_t ei = static_cast<int32_t>(fl) + 127;
  const uint32_t bits = static_cast<uint32_t>(ei) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

inline float fast_atan(float x) {
  const float ax = std::fabs(x);
  const bool inv = ax > 1.0f;
  const float z = inv ? 1.0f / ax : ax, z2 = z * z;
  const float p = z * (0.99997726f + z2 * (-0.33262347f + z2 * (0.19354346f + z2 * (-0.11643287f +
                  z2 * (0.05265332f - z2 * 0.01172120f)))));
  const float r = inv ? 1.57079633f - p : p;
  return std::copysign(r, x);
}

// Deterministic per-(seed, frame, bin) phase in [-pi, pi): the same wherever the frame falls
// in a push sequence, so streaming output does not depend on how frames are split.
inline float hashed_phase(uint64_t seed, int64_t frame, int bin) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(frame) * 0xBF58476D1CE4E5B9ull +
               static_cast<uint64_t>(bin) * 0x94D049BB133111EBull + 0x2545F4914F6CDD1Dull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (static_cast<float>(z >> 40) * (1.0f / 16777216.0f)) * kTwoPiF - kPi;
}

// Index of the highest set bit of a non-zero word.
inline int highest_bit(uint64_t v) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long i;
  _BitScanReverse64(&i, v);
  return static_cast<int>(i);
#else
  return 63 - __builtin_clzll(v);
#endif
}

// Max-priority queue over integer items with priorities quantised into buckets: O(1) push
// and pop (a bitmap of non-empty buckets finds the top in at most 16 word tests), so
// integration costs grow linearly with the spectrogram size. LIFO within a bucket.
// Sized at construction; push/pop never allocate.
class BucketQueue {
 public:
  static constexpr int kBuckets = 1024;
  static constexpr int kWords = kBuckets / 64;
  BucketQueue() = default;
  explicit BucketQueue(size_t capacity) { reset_capacity(capacity); }
  void reset_capacity(size_t capacity) {
    next_.assign(capacity, -1);
    head_.assign(kBuckets, -1);
    clear();
  }
  void clear() {
    for (int w = 0; w < kWords; ++w) {
      uint64_t bits = used_[w];
      while (bits) {
        const int b = highest_bit(bits);
        head_[w * 64 + b] = -1;
        bits &= ~(uint64_t(1) << b);
      }
      used_[w] = 0;
    }
    topw_ = -1;
  }
  bool empty() const { return topw_ < 0; }
  void push(int32_t item, int bucket) {
    next_[item] = head_[bucket];
    head_[bucket] = item;
    const int w = bucket >> 6;
    used_[w] |= uint64_t(1) << (bucket & 63);
    if (w > topw_) topw_ = w;
  }
  // Bucket of the next pop. Precondition: !empty().
  int top_bucket() const { return topw_ * 64 + highest_bit(used_[topw_]); }
  // Precondition: !empty().
  int32_t pop() {
    const int b = top_bucket();
    const int32_t item = head_[b];
    head_[b] = next_[item];
    if (head_[b] < 0) {
      used_[b >> 6] &= ~(uint64_t(1) << (b & 63));
      while (topw_ >= 0 && !used_[topw_]) --topw_;
    }
    return item;
  }

 private:
  std::vector<int32_t> next_, head_;
  uint64_t used_[kWords] = {};
  int topw_ = -1;  // highest word of used_ that is non-zero, -1 when empty
};

// Bucket of a log-magnitude s given the threshold log-magnitude and the range above it.
inline int bucket_of(float s, float thresh, float inv_range) {
  int b = static_cast<int>((s - thresh) * inv_range * (BucketQueue::kBuckets - 1));
  return b < 0 ? 0 : (b >= BucketQueue::kBuckets ? BucketQueue::kBuckets - 1 : b);
}

// Phase advance from frame to frame for bin m is (a*M/gamma) * ds/dm + 2*pi*a*m/M. The first
// term (the offset of the bin's instantaneous frequency) is what time_gradient writes; the
// second is the same for every frame of a bin, so it is kept apart, reduced exactly modulo
// 2*pi (bin_advance), and trapezoidal averaging never straddles a wrap.
void time_gradient(const float* logs, int n_bins, int n_fft, int hop, double gamma, float* tgrad);
std::vector<float> bin_advance(int n_bins, int n_fft, int hop);
// Phase step from bin to bin: -(gamma/(a*M)) * ds/dn, from log-magnitudes of the frames
// around (s_prev, s_next) spanning `span` frames (2 for a centred difference, 1 one-sided).
void freq_gradient(const float* s_prev, const float* s_next, float span, int n_bins, int n_fft,
                   int hop, double gamma, float* fgrad);

// The same step for a frame t+1 whose level rose sharply over frame t, when frame t+2 is not
// known yet (one frame of look-ahead). Taking the level as holding (s[t+2] = s[t+1]) in the
// centred form places an onset's energy too late in the frame whenever it decays after the
// attack: an impact's noise burst lands 12-16 samples late and its high bins lose coherence.
// The one-sided difference D1 = s_cur - s_prev instead fits an impulse exactly: under a
// Hann window an impulse at u samples from frame t+1's centre has D1 = 2*log(cos(theta) /
// cos(theta + phi)), theta = pi*u/M, phi = pi*a/M, so tan(theta) = (cos(phi) - e^(-D1/2)) /
// sin(phi) and the step is -2*theta, bounded in (-pi, pi - 2*phi) however large D1 is.
// Only meant for onset frames: for a steady sound (D1 ~ 0) it puts the energy half a hop
// early, where the centred form is right.
void freq_gradient_onset(const float* s_prev, const float* s_cur, int n_bins, int n_fft, int hop,
                         float* fgrad);

// Hann side lobes. PGHI's gradients come from a Gaussian model, which has no side lobes; a
// Hann window's kernel changes sign at every integer offset >= 2 from a partial's frequency,
// so bins in a partial's side lobes alternate in phase by pi, and their log-magnitude slopes
// say nothing about the partial's frequency. peak_lock finds the partials in one frame
// (local maxima, refined by parabolic interpolation), claims the bins whose level matches
// a partial's Hann side-lobe model, and for those bins
//  - sets flip[k] = 1 where stepping from bin k to k+1 crosses a zero of that partial's
//    kernel (integration adds pi there);
//  - replaces the time-gradient correction by the partial's own frequency offset.
// Bins that no partial explains (noise, transients, valleys between partials) are left to
// the Gaussian model. owner is scratch of n_bins ints. No allocation.
void peak_lock(const float* s, int n_bins, int n_fft, int hop, float thresh, int32_t* owner,
               uint8_t* flip, float* tgrad);

// Natural log of max(x, 1e-30) for n values.
void log_magnitudes(const float* mag, int n, int64_t stride, float* out);

}  // namespace fk::dsp

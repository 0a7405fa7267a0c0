#include "dsp/mel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/error.hpp"

namespace fk::dsp {

namespace {
// Slaney's auditory-toolbox mel scale, as in librosa (htk=False).
constexpr double kFsp = 200.0 / 3.0;
constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = kMinLogHz / kFsp;
const double kLogStep = std::log(6.4) / 27.0;

double hz_to_mel(double f) {
  return f >= kMinLogHz ? kMinLogMel + std::log(f / kMinLogHz) / kLogStep : f / kFsp;
}
double mel_to_hz(double m) {
  return m >= kMinLogMel ? kMinLogHz * std::exp(kLogStep * (m - kMinLogMel)) : kFsp * m;
}
}  // namespace

std::vector<float> mel_filterbank(double sr, int n_fft, int n_mels, double fmin, double fmax) {
  if (!(sr >= 1000.0 && sr <= 384000.0) || !std::isfinite(sr))
    throw Error(Status::InvalidArgument, "sample rate must be in [1000, 384000] Hz, got " +
                                             std::to_string(sr));
  validate_fft_params(n_fft, 1);
  if (n_mels < 1 || n_mels > 1024)
    throw Error(Status::InvalidArgument,
                "n_mels must be in [1, 1024], got " + std::to_string(n_mels));
  if (fmax <= 0.0) fmax = sr / 2.0;
  if (!(fmin >= 0.0) || !(fmax > fmin) || fmax > sr / 2.0 + 1e-9)
    throw Error(Status::InvalidArgument, "need 0 <= fmin < fmax <= sr/2, got fmin " +
                                             std::to_string(fmin) + ", fmax " +
                                             std::to_string(fmax));
  const int nb = n_fft / 2 + 1;
  std::vector<double> fftfreqs(nb), mel_f(n_mels + 2);
  const double df = 1.0 / (n_fft * (1.0 / sr));
  for (int k = 0; k < nb; ++k) fftfreqs[k] = k * df;
  const double lo = hz_to_mel(fmin), hi = hz_to_mel(fmax);
  const double step = (hi - lo) / (n_mels + 1);
  for (int i = 0; i < n_mels + 2; ++i) mel_f[i] = mel_to_hz(i == n_mels + 1 ? hi : lo + i * step);
  std::vector<float> fb(static_cast<size_t>(n_mels) * nb);
  for (int i = 0; i < n_mels; ++i) {
    const double d0 = mel_f[i + 1] - mel_f[i], d1 = mel_f[i + 2] - mel_f[i + 1];
    const double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
    for (int k = 0; k < nb; ++k) {
      const double lower = -(mel_f[i] - fftfreqs[k]) / d0;
      const double upper = (mel_f[i + 2] - fftfreqs[k]) / d1;
      const float w = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      fb[static_cast<size_t>(i) * nb + k] = static_cast<float>(w * enorm);
    }
  }
  return fb;
}

MelInverse::MelInverse(const float* fb, int n_mels, int n_bins) : n_mels_(n_mels), n_bins_(n_bins) {
  // pinv = fb^T (fb fb^T + eps I)^-1, by Cholesky in double.
  const int M = n_mels;
  std::vector<double> A(static_cast<size_t>(M) * M, 0.0);
  double max_diag = 0.0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int k = 0; k < n_bins; ++k) s += double(fb[i * n_bins + k]) * fb[j * n_bins + k];
      A[i * M + j] = A[j * M + i] = s;
      if (i == j) max_diag = std::max(max_diag, s);
    }
  const double eps = std::max(1e-12, 1e-6 * max_diag);
  for (int i = 0; i < M; ++i) A[i * M + i] += eps;
  for (int j = 0; j < M; ++j) {  // in-place Cholesky, lower triangle
    double d = A[j * M + j];
    for (int k = 0; k < j; ++k) d -= A[j * M + k] * A[j * M + k];
    if (!(d > 0.0)) throw Error(Status::Internal, "mel filterbank Gram matrix is not positive definite");
    d = std::sqrt(d);
    A[j * M + j] = d;
    for (int i = j + 1; i < M; ++i) {
      double s = A[i * M + j];
      for (int k = 0; k < j; ++k) s -= A[i * M + k] * A[j * M + k];
      A[i * M + j] = s / d;
    }
  }
  // Solve (L L^T) Y = fb for Y [M, bins]; pinv = Y^T.
  pinv_.assign(static_cast<size_t>(n_bins) * M, 0.0f);
  std::vector<double> col(M);
  for (int k = 0; k < n_bins; ++k) {
    for (int i = 0; i < M; ++i) {
      double s = fb[i * n_bins + k];
      for (int j = 0; j < i; ++j) s -= A[i * M + j] * col[j];
      col[i] = s / A[i * M + i];
    }
    for (int i = M - 1; i >= 0; --i) {
      double s = col[i];
      for (int j = i + 1; j < M; ++j) s -= A[j * M + i] * col[j];
      col[i] = s / A[i * M + i];
    }
    for (int i = 0; i < M; ++i) pinv_[static_cast<size_t>(k) * M + i] = static_cast<float>(col[i]);
  }
  // The same numbers mel-major, for apply_frame: its loop over bins is then a straight
  // vectorisable multiply-add per mel band.
  pinv_t_.assign(pinv_.size(), 0.0f);
  for (int k = 0; k < n_bins; ++k)
    for (int i = 0; i < M; ++i)
      pinv_t_[static_cast<size_t>(i) * n_bins + k] = pinv_[static_cast<size_t>(k) * M + i];
}

namespace {
// Bins [k0, k1), frames [t0, F): the plain loop, for the edges of the blocked kernel below.
// Written exactly as the blocked kernel's sums (accumulate over m in order, product then
// add), so every output has the same bits whichever part of the kernel computes it.
inline void mel_inverse_plain(const float* pinv, int M, const float* mel, int64_t F, int k0,
                              int k1, int64_t t0, float* lin) {
  for (int k = k0; k < k1; ++k) {
    float* out = lin + k * F;
    std::fill(out + t0, out + F, 0.0f);
    const float* p = pinv + static_cast<size_t>(k) * M;
    for (int m = 0; m < M; ++m) {
      const float c = p[m];
      const float* row = mel + m * F;
      for (int64_t t = t0; t < F; ++t) out[t] += c * row[t];
    }
    for (int64_t t = t0; t < F; ++t) out[t] = std::max(out[t], 0.0f);
  }
}
}  // namespace

void MelInverse::apply(const float* mel, int64_t F, float* lin) const {
  // Register-blocked: kRows bins x 16 frames of output stay in registers while the mel rows
  // stream past, instead of one output row being loaded and stored per mel band. Each output
  // is still the sum over m in increasing order of separately rounded products, so results
  // equal the plain loop's.
  const int M = n_mels_;
  int k = 0;
#if defined(__GNUC__) || defined(__clang__)
  typedef float v8 __attribute__((vector_size(32)));
  constexpr int kRows = 4;
  const int64_t F16 = F - F % 16;
  for (; k + kRows <= n_bins_; k += kRows) {
    const float* p = pinv_.data() + static_cast<size_t>(k) * M;
    for (int64_t t = 0; t < F16; t += 16) {
      v8 acc[kRows][2] = {};
      for (int m = 0; m < M; ++m) {
        v8 r0, r1;
        std::memcpy(&r0, mel + m * F + t, sizeof r0);
        std::memcpy(&r1, mel + m * F + t + 8, sizeof r1);
        for (int j = 0; j < kRows; ++j) {
          const v8 c = v8{} + p[j * M + m];
          acc[j][0] += c * r0;
          acc[j][1] += c * r1;
        }
      }
      for (int j = 0; j < kRows; ++j) {
        const v8 zero = {};  // std::max(acc, 0), lane by lane
        const v8 a0 = acc[j][0] < zero ? zero : acc[j][0];
        const v8 a1 = acc[j][1] < zero ? zero : acc[j][1];
        std::memcpy(lin + (k + j) * F + t, &a0, sizeof a0);
        std::memcpy(lin + (k + j) * F + t + 8, &a1, sizeof a1);
      }
    }
    if (F16 < F) mel_inverse_plain(pinv_.data(), M, mel, F, k, k + kRows, F16, lin);
  }
#endif
  mel_inverse_plain(pinv_.data(), M, mel, F, k, n_bins_, 0, lin);
}

void MelInverse::apply_frame(const float* mel, float* lin) const {
  // Each bin still sums its bands in order m = 0, 1, ... (the same numbers as a dot product
  // per bin), but eight or more bins at a time: a scalar dot product is one long chain of
  // dependent adds, which made this a fifth of an ambience frame's cost.
  const int nb = n_bins_;
  for (int k = 0; k < nb; ++k) lin[k] = 0.0f;
  for (int m = 0; m < n_mels_; ++m) {
    const float v = mel[m];
    const float* __restrict p = pinv_t_.data() + static_cast<size_t>(m) * nb;
    float* __restrict o = lin;
    for (int k = 0; k < nb; ++k) o[k] += p[k] * v;
  }
  for (int k = 0; k < nb; ++k) lin[k] = std::max(lin[k], 0.0f);
}

std::vector<float> log_mel(const StftPlan& plan, const float* fb, int n_mels, const float* x,
                           int64_t n, float log_floor, int64_t* n_frames_out) {
  const int64_t F = stft_frames(n, plan.hop());
  const int nb = plan.bins();
  std::vector<cfloat> S(static_cast<size_t>(nb) * F);
  plan.stft(x, n, S.data());  // frame-major
  // Each triangle covers a short run of bins: visit only that run.
  std::vector<int> lo(n_mels, 0), hi(n_mels, 0);
  for (int m = 0; m < n_mels; ++m) {
    const float* row = fb + static_cast<size_t>(m) * nb;
    int a = 0, b = nb;
    while (a < nb && row[a] == 0.0f) ++a;
    while (b > a && row[b - 1] == 0.0f) --b;
    lo[m] = a;
    hi[m] = b;
  }
  std::vector<float> mag(nb), out(static_cast<size_t>(n_mels) * F);
  for (int64_t t = 0; t < F; ++t) {
    const cfloat* st = S.data() + t * nb;
    for (int k = 0; k < nb; ++k) mag[k] = std::abs(st[k]);
    for (int m = 0; m < n_mels; ++m) {
      const float* row = fb + static_cast<size_t>(m) * nb;
      float acc = 0.0f;
      for (int k = lo[m]; k < hi[m]; ++k) acc += row[k] * mag[k];
      out[m * F + t] = std::log(std::max(acc, log_floor));
    }
  }
  *n_frames_out = F;
  return out;
}

}  // namespace fk::dsp

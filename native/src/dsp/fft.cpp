#include "dsp/fft.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

// Route pocketfft's temporary allocations through our arena. pocketfft calls malloc,
// aligned_alloc and free unqualified from inside pocketfft::detail, so declarations in that
// namespace, made before the header is included, are found first. Its source is untouched.
namespace pocketfft {
namespace detail {
void* malloc(size_t bytes);
void* aligned_alloc(size_t alignment, size_t bytes);
void free(void* p);
}  // namespace detail
}  // namespace pocketfft

#include <pocketfft_hdronly.h>

namespace {

struct Arena {
  char* base = nullptr;
  size_t cap = 0;
  size_t used = 0;
};
thread_local Arena t_arena;
std::atomic<uint64_t> g_fallbacks{0};

constexpr size_t kAlign = 64;
// Each arena block keeps its size in the 64 bytes before it so free() can pop it.
void* arena_alloc(size_t bytes) {
  Arena& a = t_arena;
  size_t need = ((bytes + kAlign - 1) / kAlign) * kAlign + kAlign;
  if (a.base && a.used + need <= a.cap) {
    char* block = a.base + a.used;
    *reinterpret_cast<size_t*>(block) = need;
    a.used += need;
    return block + kAlign;
  }
  if (a.base) g_fallbacks.fetch_add(1, std::memory_order_relaxed);
  size_t rounded = ((bytes + kAlign - 1) / kAlign) * kAlign;
  return std::aligned_alloc(kAlign, rounded ? rounded : kAlign);
}

bool in_arena(void* p) {
  const Arena& a = t_arena;
  return a.base && p >= a.base && p < a.base + a.cap;
}

void arena_free(void* p) {
  if (!p) return;
  if (in_arena(p)) {
    Arena& a = t_arena;
    char* block = static_cast<char*>(p) - kAlign;
    size_t need = *reinterpret_cast<size_t*>(block);
    // pocketfft frees in reverse order of allocation, so this is always the top block.
    if (block + need == a.base + a.used) a.used -= need;
    return;
  }
  std::free(p);
}

}  // namespace

namespace pocketfft {
namespace detail {
void* malloc(size_t bytes) { return arena_alloc(bytes); }
void* aligned_alloc(size_t, size_t bytes) { return arena_alloc(bytes); }
void free(void* p) { arena_free(p); }
}  // namespace detail
}  // namespace pocketfft

namespace fk::dsp {

constexpr int kLanes = kFftLanes;
#if (defined(__GNUC__) || defined(__clang__))
typedef float vfloat __attribute__((vector_size(kLanes * sizeof(float))));
#else
typedef float vfloat;
#endif

AlignedFloats::~AlignedFloats() { std::free(p_); }

AlignedFloats& AlignedFloats::operator=(AlignedFloats&& o) noexcept {
  if (this != &o) {
    std::free(p_);
    p_ = o.p_;
    n_ = o.n_;
    o.p_ = nullptr;
    o.n_ = 0;
  }
  return *this;
}

void AlignedFloats::resize(size_t n) {
  std::free(p_);
  p_ = nullptr;
  n_ = 0;
  if (n == 0) return;
  size_t bytes = ((n * sizeof(float) + kAlign - 1) / kAlign) * kAlign;
#ifdef __linux__
  // Big buffers (Griffin-Lim's state: 20 MB for a 10 s clip, fresh on every call) on 2 MB
  // pages: ten page faults instead of five thousand when they are first zeroed, and few TLB
  // misses while they stream through the iterations; about 10% of a 10 s Griffin-Lim. Where
  // transparent huge pages are off the advice is ignored.
  constexpr size_t kHuge = size_t(2) << 20;
  if (bytes >= 2 * kHuge) {
    bytes = (bytes + kHuge - 1) / kHuge * kHuge;
    p_ = static_cast<float*>(std::aligned_alloc(kHuge, bytes));
    if (p_) madvise(p_, bytes, MADV_HUGEPAGE);
  }
#endif
  if (!p_) p_ = static_cast<float*>(std::aligned_alloc(kAlign, bytes));
  if (!p_) throw std::bad_alloc();
  n_ = n;
  zero();
}

void AlignedFloats::zero() {
  if (p_) std::memset(p_, 0, n_ * sizeof(float));
}

struct RealFFT::Impl {
  explicit Impl(size_t n) : plan(n) {
    if (n % 4 != 0) return;
    quarter = std::make_unique<pocketfft::detail::pocketfft_c<float>>(n / 4);
    const size_t m = n / 2;
    pre.resize(2 * m);   // e^{+2 pi i k / n}, k < n/2
    half.resize(m);      // e^{+2 pi i k / (n/2)}, k < n/4
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t k = 0; k < m; ++k) {
      pre[2 * k] = static_cast<float>(std::cos(two_pi * double(k) / double(n)));
      pre[2 * k + 1] = static_cast<float>(std::sin(two_pi * double(k) / double(n)));
    }
    for (size_t k = 0; k < m / 2; ++k) {
      half[2 * k] = static_cast<float>(std::cos(two_pi * double(k) / double(m)));
      half[2 * k + 1] = static_cast<float>(std::sin(two_pi * double(k) / double(m)));
    }
  }
  pocketfft::detail::pocketfft_r<float> plan;
  std::unique_ptr<pocketfft::detail::pocketfft_c<float>> quarter;
  std::vector<float> pre, half;  // twiddles, (cos, sin) pairs
};

RealFFT::RealFFT(int n) : n_(n), impl_(std::make_unique<Impl>(static_cast<size_t>(n))) {}
RealFFT::~RealFFT() = default;

void RealFFT::forward(float* data) const { impl_->plan.exec(data, 1.0f, true); }
void RealFFT::inverse(float* data, float scale) const { impl_->plan.exec(data, scale, false); }

void RealFFT::forward_batch(float* data) const {
  impl_->plan.exec(reinterpret_cast<vfloat*>(data), 1.0f, true);
}
void RealFFT::inverse_batch(float* data, float scale) const {
  impl_->plan.exec(reinterpret_cast<vfloat*>(data), scale, false);
}

void RealFFT::inverse_batch_packed(float* data, float scale, bool fftpack_order) const {
  // x[2m] + i x[2m+1] is the inverse complex transform (n/2 points) of
  //   Z[k] = (X[k] + conj X[n/2-k]) + i (X[k] - conj X[n/2-k]) e^{+2 pi i k/n},
  // all scaled by 1/n as the real inverse would be. Z[k] goes to rows 2k, 2k+1, built in place
  // for k and n/2 - k together, k rising. In FFTPACK order Xk sits one row lower (re Xk in row
  // 2k - 1), so writing Z[k] destroys re X(k+1): it is read first and carried along.
  vfloat* d = reinterpret_cast<vfloat*>(data);
  const size_t m = static_cast<size_t>(n_) / 2, h = m / 2;
  const float* pre = impl_->pre.data();
  vfloat next_re;  // FFTPACK order: re X[k] for the coming k
  {
    const vfloat r0 = d[0], rm = fftpack_order ? d[2 * m - 1] : d[1];  // X0, X(n/2): real
    next_re = d[1];
    d[0] = r0 + rm;
    d[1] = r0 - rm;
  }
  for (size_t k = 1; k <= h; ++k) {
    vfloat* a = d + 2 * k;        // Z[k]
    vfloat* b = d + 2 * (m - k);  // Z[n/2 - k]
    vfloat ar, ai, br, bi;
    if (fftpack_order) {
      ar = next_re;
      ai = a[0];
      next_re = a[1];
      // k = n/4 pairs with itself, and Z[k-1] has overwritten re Xk's row by then.
      br = k == h ? ar : b[-1];
      bi = k == h ? ai : b[0];
    } else {
      ar = a[0];
      ai = a[1];
      br = b[0];
      bi = b[1];
    }
    const vfloat sr = ar + br, si = ai - bi;  // s = X[k] + conj X[n/2-k]
    const vfloat tr = ar - br, ti = ai + bi;  // t = X[k] - conj X[n/2-k]
    const float c = pre[2 * k], sn = pre[2 * k + 1];
    const vfloat ur = tr * c - ti * sn, ui = tr * sn + ti * c;  // u = t e^{+2 pi i k/n}
    // Z[k] = s + i u; for n/2 - k, s and u turn into their conjugates.
    a[0] = sr - ui;
    a[1] = si + ur;
    if (k != h) {
      b[0] = sr + ui;
      b[1] = ur - si;
    }
  }
  // One radix-2 step (decimation in frequency): even outputs from Z[k] + Z[k + n/4], odd ones
  // from (Z[k] - Z[k + n/4]) e^{+2 pi i k/(n/2)}, each an n/4-point transform.
  const float* tw = impl_->half.data();
  for (size_t k = 0; k < h; ++k) {
    vfloat* a = d + 2 * k;
    vfloat* b = d + 2 * (k + h);
    const vfloat xr = a[0] - b[0], xi = a[1] - b[1];
    a[0] = a[0] + b[0];
    a[1] = a[1] + b[1];
    const float c = tw[2 * k], sn = tw[2 * k + 1];
    b[0] = xr * c - xi * sn;
    b[1] = xr * sn + xi * c;
  }
  using C = pocketfft::detail::cmplx<vfloat>;
  impl_->quarter->exec(reinterpret_cast<C*>(d), scale, false);
  impl_->quarter->exec(reinterpret_cast<C*>(d + 2 * h), scale, false);
}

size_t RealFFT::scratch_bytes() const {
  // The FFTPACK path takes one n-element buffer; Bluestein (large prime factors) takes a few
  // complex buffers of up to 2n rounded up. 8n vectors covers both with room to spare.
  return static_cast<size_t>(n_) * sizeof(vfloat) * 8 + 4 * kAlign;
}

ScratchScope::ScratchScope(void* buffer, size_t bytes) {
  Arena& a = t_arena;
  prev_base_ = a.base;
  prev_cap_ = a.cap;
  prev_used_ = a.used;
  a.base = static_cast<char*>(buffer);
  a.cap = bytes;
  a.used = 0;
}

ScratchScope::~ScratchScope() {
  Arena& a = t_arena;
  a.base = static_cast<char*>(prev_base_);
  a.cap = prev_cap_;
  a.used = prev_used_;
}

uint64_t fft_scratch_fallbacks() { return g_fallbacks.load(std::memory_order_relaxed); }

}  // namespace fk::dsp

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
  vfloat* d = reinterpret_cast<vfloat*>(data);
  const size_t n = static_cast<size_t>(n_), m = n / 2, h = m / 2;
  if (fftpack_order) {  // re X(n/2) from the last row to row 1, the rest one row down
    const vfloat rm = d[n - 1];
    std::memmove(d + 2, d + 1, sizeof(vfloat) * (n - 2));
    d[1] = rm;
  }
  // x[2m] + i x[2m+1] is the inverse complex transform (n/2 points) of
  //   Z[k] = (X[k] + conj X[n/2-k]) + i (X[k] - conj X[n/2-k]) e^{+2 pi i k/n},
  // all scaled by 1/n as the real inverse would be. One radix-2 step (decimation in frequency)
  // splits that into two n/4-point transforms, of A[k] = Z[k] + Z[k + n/4] (even outputs) and
  // B[k] = (Z[k] - Z[k + n/4]) e^{+2 pi i k/(n/2)} (odd ones). Both steps in one pass, in
  // place: Z needs k with n/2 - k, the split k with k + n/4, so k, n/4 - k, n/4 + k and
  // n/2 - k go together.
  const float* pre = impl_->pre.data();
  const float* tw = impl_->half.data();
  struct Cv {
    vfloat r, i;
  };
  auto load = [d](size_t k) { return Cv{d[2 * k], d[2 * k + 1]}; };
  auto store = [d](size_t k, const Cv& v) {
    d[2 * k] = v.r;
    d[2 * k + 1] = v.i;
  };
  // Z[k] and Z[n/2 - k] from a = X[k], b = X[n/2 - k].
  auto make_z = [pre](size_t k, const Cv& a, const Cv& b, Cv& zk, Cv& zmk) {
    const vfloat sr = a.r + b.r, si = a.i - b.i;  // s = X[k] + conj X[n/2-k]
    const vfloat tr = a.r - b.r, ti = a.i + b.i;  // t = X[k] - conj X[n/2-k]
    const float c = pre[2 * k], sn = pre[2 * k + 1];
    const vfloat ur = tr * c - ti * sn, ui = tr * sn + ti * c;  // u = t e^{+2 pi i k/n}
    zk = Cv{sr - ui, si + ur};   // s + i u
    zmk = Cv{sr + ui, ur - si};  // conj s + i conj u
  };
  // A[k], B[k] from Z[k], Z[k + n/4], into their rows.
  auto split = [tw, &store, h](size_t k, const Cv& z0, const Cv& z1) {
    const vfloat xr = z0.r - z1.r, xi = z0.i - z1.i;
    const float c = tw[2 * k], sn = tw[2 * k + 1];
    store(k, Cv{z0.r + z1.r, z0.i + z1.i});
    store(k + h, Cv{xr * c - xi * sn, xr * sn + xi * c});
  };
  {  // k = 0 (X0 and X(n/2) are real) with n/4 (its own partner)
    const vfloat r0 = d[0], rm = d[1];
    const Cv xh = load(h);
    Cv zh, unused;
    make_z(h, xh, xh, zh, unused);
    split(0, Cv{r0 + rm, r0 - rm}, zh);
  }
  for (size_t k = 1; 2 * k < h; ++k) {
    const size_t j = h - k;
    const Cv xk = load(k), xmk = load(m - k), xj = load(j), xmj = load(m - j);
    Cv zk, zmk, zj, zmj;
    make_z(k, xk, xmk, zk, zmk);
    make_z(j, xj, xmj, zj, zmj);  // Z[n/2 - j] = Z[k + n/4]
    split(k, zk, zmj);
    split(j, zj, zmk);  // j + n/4 = n/2 - k
  }
  if (h % 2 == 0 && h >= 2) {  // k = n/8 is its own n/4 - k
    const size_t k = h / 2;
    Cv zk, zmk;
    make_z(k, load(k), load(m - k), zk, zmk);
    split(k, zk, zmk);
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

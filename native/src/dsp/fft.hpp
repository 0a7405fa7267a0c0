// Real FFT over pocketfft, in two shapes: one frame at a time (streaming) and kLanes frames
// at once, interleaved, so that each instruction transforms a whole group of frames. The
// batched inverse also comes in a packed form (quarter-size complex transforms) for synthesis.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace fk::dsp {

// Frames transformed per batch call: 8 with AVX, 4 with SSE2/NEON, 1 elsewhere (MSVC has no
// GCC vector extensions). A compile-time constant so lane loops unroll.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__AVX__)
constexpr int kFftLanes = 8;
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__SSE2__) || defined(__ARM_NEON))
constexpr int kFftLanes = 4;
#else
constexpr int kFftLanes = 1;
#endif
constexpr int fft_lanes() { return kFftLanes; }

// 64-byte aligned float buffer (big ones on huge pages where Linux offers them). Allocates
// only in the constructor and resize().
class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(size_t n) { resize(n); }
  ~AlignedFloats();
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  AlignedFloats(AlignedFloats&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
  AlignedFloats& operator=(AlignedFloats&& o) noexcept;
  void resize(size_t n);  // contents are zeroed
  void zero();
  float* data() { return p_; }
  const float* data() const { return p_; }
  size_t size() const { return n_; }
  float& operator[](size_t i) { return p_[i]; }
  float operator[](size_t i) const { return p_[i]; }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
};

// Resizes a buffer (std::vector or AlignedFloats) to n when it holds fewer: the workspaces
// that are reused across sizes only ever grow.
template <class Buffer>
void grow(Buffer& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// A cached real FFT plan of length n (even). Unnormalised both ways; results are in
// FFTPACK half-complex order: r0, r1, i1, r2, i2, ..., r(n/2).
// Immutable after construction: any thread may call the exec functions concurrently.
class RealFFT {
 public:
  explicit RealFFT(int n);
  ~RealFFT();
  int size() const { return n_; }

  // One frame, in place, n floats.
  void forward(float* data) const;
  void inverse(float* data, float scale) const;
  // fft_lanes() frames interleaved (sample i of frame l at data[i*lanes + l]), in place,
  // n*lanes floats, 64-byte aligned.
  void forward_batch(float* data) const;
  void inverse_batch(float* data, float scale) const;

  // The same inverse over a differently ordered batch, for n a multiple of 4 (packed()):
  // complex transforms of n/4 points instead of one real transform of n. The n/2 + 1 bins
  // become n/2 complex values, one radix-2 step splits those into two quarter-size transforms,
  // and each of those works in 16 KB (n = 1024, 8 lanes), inside a 32 KB L1 data cache, where
  // inverse_batch's passes stream 32 KB buffers: ~30% less time at n = 1024. Equal to
  // inverse_batch to float rounding, not bit for bit.
  // In: row 0 = re X0, row 1 = re X(n/2), rows 2k and 2k+1 = re and im Xk for 0 < k < n/2,
  // a row being fft_lanes() floats (lane l at row * lanes + l); or, with fftpack_order,
  // inverse_batch's input. Out: sample j (times scale) in row packed_row(j).
  bool packed() const { return n_ % 4 == 0; }
  void inverse_batch_packed(float* data, float scale, bool fftpack_order = false) const;
  int64_t packed_row(int64_t j) const {
    const int64_t q = j >> 2, r = j & 3;  // samples 4q, 4q+1 | 4q+2, 4q+3: first | second half
    return r < 2 ? 2 * q + r : n_ / 2 + 2 * q + (r - 2);
  }

  // Bytes of scratch that one exec call takes from a ScratchScope (see below).
  size_t scratch_bytes() const;

 private:
  int n_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// pocketfft takes a temporary buffer on every transform. Inside a ScratchScope, those
// buffers come from the caller's preallocated memory (a per-thread bump arena), so the
// streaming path never reaches malloc. Outside one they come from the heap.
class ScratchScope {
 public:
  ScratchScope(void* buffer, size_t bytes);
  ~ScratchScope();
  ScratchScope(const ScratchScope&) = delete;
  ScratchScope& operator=(const ScratchScope&) = delete;

 private:
  void* prev_base_;
  size_t prev_cap_, prev_used_;
};

// Number of times a transform inside a ScratchScope had to fall back to the heap (tests
// assert it stays 0).
uint64_t fft_scratch_fallbacks();

}  // namespace fk::dsp

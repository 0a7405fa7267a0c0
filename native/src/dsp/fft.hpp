// Real FFT over pocketfft, in two shapes: one frame at a time (streaming) and kLanes frames
// at once, interleaved, so that each instruction transforms a whole group of frames.
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

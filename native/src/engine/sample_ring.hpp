// The PCM ring between an ambience's worker (the only writer) and the audio thread (the only
// reader). Storage is lent by the voice slot (sized at engine creation); indices only grow,
// so full and empty are told apart without a spare sample.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fk::engine {

class SampleRing {
 public:
  // Not concurrent with read/write: called while the slot belongs to one worker alone.
  void attach(float* storage, size_t capacity) noexcept {
    buf_ = storage;
    cap_ = capacity;
    w_.store(0, std::memory_order_relaxed);
    r_.store(0, std::memory_order_relaxed);
  }
  size_t capacity() const noexcept { return cap_; }
  size_t readable() const noexcept {
    return size_t(w_.load(std::memory_order_acquire) - r_.load(std::memory_order_acquire));
  }
  size_t writable() const noexcept { return cap_ - readable(); }

  // Producer side. Writes min(n, writable()) samples; returns how many.
  size_t write(const float* x, size_t n) noexcept {
    const uint64_t w = w_.load(std::memory_order_relaxed);
    const uint64_t r = r_.load(std::memory_order_acquire);
    n = std::min(n, cap_ - size_t(w - r));
    const size_t at = size_t(w % cap_), first = std::min(n, cap_ - at);
    std::memcpy(buf_ + at, x, first * sizeof(float));
    std::memcpy(buf_, x + first, (n - first) * sizeof(float));
    w_.store(w + n, std::memory_order_release);
    return n;
  }

  // Consumer side. Reads min(n, readable()) samples; returns how many.
  size_t read(float* out, size_t n) noexcept {
    const uint64_t r = r_.load(std::memory_order_relaxed);
    const uint64_t w = w_.load(std::memory_order_acquire);
    n = std::min(n, size_t(w - r));
    const size_t at = size_t(r % cap_), first = std::min(n, cap_ - at);
    std::memcpy(out, buf_ + at, first * sizeof(float));
    std::memcpy(out + first, buf_, (n - first) * sizeof(float));
    r_.store(r + n, std::memory_order_release);
    return n;
  }

 private:
  float* buf_ = nullptr;
  size_t cap_ = 0;
  alignas(64) std::atomic<uint64_t> w_{0};
  alignas(64) std::atomic<uint64_t> r_{0};
};

}  // namespace fk::engine

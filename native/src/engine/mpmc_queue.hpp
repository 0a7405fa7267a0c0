// A bounded lock-free queue of trivially copyable messages, safe for any number of producers
// and consumers. The engine uses it for every hand-over between threads: game threads ->
// worker (commands), worker -> audio thread (voices ready, stops), audio/worker -> host
// (events). All cells are allocated in the constructor; push and pop never allocate, lock or
// block, so the audio thread may use either end.
//
// The algorithm is the classic sequence-numbered ring (D. Vyukov's bounded MPMC queue): each
// cell carries a sequence number telling whether it is free for the producer of lap k or full
// for the consumer of lap k, so producers and consumers only contend on their own index.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace fk::engine {

template <class T>
class MpmcQueue {
  static_assert(std::is_trivially_copyable<T>::value, "messages are copied between threads");

 public:
  // capacity is rounded up to a power of two (at least 2).
  explicit MpmcQueue(size_t capacity) {
    size_t n = 2;
    while (n < capacity) n <<= 1;
    cells_.reset(new Cell[n]);
    mask_ = n - 1;
    for (size_t i = 0; i < n; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  MpmcQueue(const MpmcQueue&) = delete;
  MpmcQueue& operator=(const MpmcQueue&) = delete;

  size_t capacity() const noexcept { return mask_ + 1; }

  // False when full (nothing is written).
  bool try_push(const T& value) noexcept {
    size_t pos = tail_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const size_t seq = cell->seq.load(std::memory_order_acquire);
      const intptr_t diff = intptr_t(seq) - intptr_t(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // the cell still holds last lap's message: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    cell->value = value;
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // False when empty.
  bool try_pop(T& out) noexcept {
    size_t pos = head_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const size_t seq = cell->seq.load(std::memory_order_acquire);
      const intptr_t diff = intptr_t(seq) - intptr_t(pos + 1);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // not yet written: empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    out = cell->value;
    cell->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

  // Messages queued, approximately (exact when no other thread is pushing or popping).
  size_t size_approx() const noexcept {
    const size_t t = tail_.load(std::memory_order_acquire);
    const size_t h = head_.load(std::memory_order_acquire);
    return t > h ? t - h : 0;
  }

 private:
  struct Cell {
    std::atomic<size_t> seq{0};
    T value{};
  };
  std::unique_ptr<Cell[]> cells_;
  size_t mask_ = 0;
  // Apart, so producers and consumers do not share a cache line.
  alignas(64) std::atomic<size_t> tail_{0};
  alignas(64) std::atomic<size_t> head_{0};
};

}  // namespace fk::engine

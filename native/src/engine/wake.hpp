// Wakes a sleeping worker. The game thread takes the mutex only when the worker may be
// asleep (the flag was clear), so a burst of triggers costs one wake-up. The audio thread
// never calls notify(): workers also wake on a short timeout to see what it released.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace fk::engine {

class Wake {
 public:
  void notify() {
    if (!pending_.exchange(true, std::memory_order_acq_rel)) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_one();
    }
  }
  // Returns when notified or after `timeout`; clears the flag.
  void wait_for(std::chrono::microseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return pending_.load(std::memory_order_acquire); });
    // An exchange, not a store: it reads the notifier's write, so every command pushed
    // before that notify() is visible to the work that follows.
    pending_.exchange(false, std::memory_order_acq_rel);
  }

 private:
  std::atomic<bool> pending_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace fk::engine

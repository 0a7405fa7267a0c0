// The state every engine thread sees: config, voice slots, registered models, the event
// queue and the counters. Owned by the Engine; workers and the mixer hold a reference.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <mutex>

#include "engine/config.hpp"
#include "engine/messages.hpp"
#include "engine/model_entry.hpp"
#include "engine/mpmc_queue.hpp"
#include "engine/voice.hpp"

namespace fk::engine {

// Monotonic counters plus a few gauges; relaxed atomics (they are statistics, except
// jobs_pending, which Engine::sync also reads).
struct Counters {
  std::atomic<uint64_t> started{0}, ended{0}, stolen{0}, underruns{0}, overloads{0};
  std::atomic<uint64_t> events_dropped{0}, oneshots_rendered{0}, ambience_frames{0};
  std::atomic<uint64_t> frames_rendered{0}, worker_busy_ns{0};
  std::atomic<uint64_t> ready_latency_ns{0};  // trigger/start to playable, summed over voices
  std::atomic<uint64_t> oneshots_early{0};    // handed over after their first part
  std::atomic<int64_t> jobs_pending{0};  // accepted triggers/starts not yet handed to audio
  std::atomic<int32_t> playing{0};       // voices mixed by the last render
  std::atomic<int32_t> ready{0};         // voices handed to audio, not yet taken
};

// The host's event callback, run by worker 0. The mutex is held while it runs, so clearing it
// returns only once no call is in progress.
struct CallbackHub {
  std::mutex mu;
  EventCallback fn = nullptr;
  void* user = nullptr;
  std::atomic<bool> armed{false};
};

struct Shared {
  explicit Shared(const Config& c)
      : config(c), slot_total(slot_count(c)), slots(new Slot[size_t(slot_total)]),
        models(new std::unique_ptr<ModelEntry>[size_t(c.max_models)]), events(size_t(c.event_capacity)) {}

  const Config config;
  const int slot_total;
  std::unique_ptr<Slot[]> slots;
  // Filled in order under the engine's add_model mutex; an entry is complete before
  // model_count (release) makes it visible, and never changes afterwards.
  std::unique_ptr<std::unique_ptr<ModelEntry>[]> models;
  std::atomic<int> model_count{0};
  MpmcQueue<Event> events;
  Counters counters;
  CallbackHub callback;
  std::atomic<uint64_t> sync_request{0};
  // Engine::sync() and add_model() sleep here; a worker that acknowledged a sync request or
  // made room for a new model wakes them (only when someone waits), so they return as soon
  // as the work is done rather than at their next poll.
  std::mutex sync_mu;
  std::condition_variable sync_cv;
  std::atomic<int> sync_waiters{0};

  // Workers: after a change a waiter may be waiting for.
  void wake_sync_waiters() {
    if (sync_waiters.load(std::memory_order_acquire) > 0) {
      std::lock_guard<std::mutex> lock(sync_mu);
      sync_cv.notify_all();
    }
  }
  // Engine (a host thread): until done() or the deadline; false on the deadline. done() is
  // checked whenever a worker wakes the waiters, and at least every millisecond.
  template <class Done>
  bool wait_sync(Done done, std::chrono::steady_clock::time_point deadline) {
    sync_waiters.fetch_add(1, std::memory_order_acq_rel);
    bool ok = false;
    for (;;) {
      if (done()) {
        ok = true;
        break;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      std::unique_lock<std::mutex> lock(sync_mu);
      sync_cv.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(1)), done);
    }
    sync_waiters.fetch_sub(1, std::memory_order_acq_rel);
    return ok;
  }

  const ModelEntry* model(int id) const noexcept {
    return id >= 0 && id < model_count.load(std::memory_order_acquire) ? models[size_t(id)].get()
                                                                       : nullptr;
  }
  // Any thread, real-time safe. A full queue drops the event and counts it.
  void emit(EventType type, VoiceId voice, int32_t model, int64_t value = 0) noexcept {
    Event e;
    e.type = type;
    e.voice = voice;
    e.model = model;
    e.value = value;
    e.frame = int64_t(counters.frames_rendered.load(std::memory_order_relaxed));
    if (!events.try_push(e)) counters.events_dropped.fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace fk::engine

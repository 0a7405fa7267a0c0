// The engine: voices of registered models, triggered from game threads, prepared by worker
// threads, mixed by the audio thread (see DESIGN.md, "Run time").
//
//   game threads ──commands (MPSC queue per worker)──> workers ──ready voices, stops,
//   gains (SPSC queue per worker)──> audio thread (render) ──events (MPMC queue)──> host
//
// Threads and what they may call:
//  - any thread but the audio thread: add_model, trigger, start, set_controls, set_gain,
//    stop, poll_event, set_event_callback, stats, sync. These never block on the audio
//    thread or the workers (trigger and friends push to a lock-free queue and wake a worker).
//  - one audio thread at a time: render (no allocation, lock, log or exception).
// Game-thread calls report errors as a Status plus a message written into the caller's
// buffer, so reporting one allocates nothing either.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dsp/error.hpp"
#include "engine/config.hpp"
#include "engine/messages.hpp"
#include "model/model.hpp"

namespace fk::engine {

struct Shared;
struct ModelEntry;
class Worker;
class Mixer;

struct Stats {
  int32_t voices_playing = 0, voices_ready = 0, models = 0;
  int64_t jobs_pending = 0;
  uint64_t voices_started = 0, voices_ended = 0, voices_stolen = 0, underruns = 0;
  uint64_t overloads = 0, events_dropped = 0, frames_rendered = 0, oneshots_rendered = 0;
  uint64_t ambience_frames = 0, worker_busy_ns = 0, ready_latency_ns = 0, oneshots_early = 0;
};

class Engine {
 public:
  explicit Engine(const Config& config);  // throws fk::Error for a bad config
  ~Engine();                              // not while render runs
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Config& config() const noexcept;
  // Registers a model (the engine shares ownership until it is destroyed); returns its id.
  // Throws fk::Error: wrong sample rate, clip too long, engine full. Allocates.
  int add_model(std::shared_ptr<const model::Model> model);
  int model_count() const noexcept;
  std::shared_ptr<const model::Model> model(int id) const noexcept;

  // values: the model's control_count values in schema order (nullptr and 0: defaults).
  // A one-shot (trigger) or an ambience (start) voice; *voice gets its id.
  Status trigger(int model, const float* values, int n_values, uint64_t seed, float gain, float pan,
                 Quality quality, VoiceId* voice, char* err, size_t err_size) noexcept;
  Status start(int model, const float* values, int n_values, uint64_t seed, float gain, float pan,
               Quality quality, VoiceId* voice, char* err, size_t err_size) noexcept;
  // Ambience voices only: new controls, glided over control_smoothing_ms.
  Status set_controls(VoiceId voice, const float* values, int n_values, char* err, size_t err_size) noexcept;
  Status set_gain(VoiceId voice, float gain, float pan, char* err, size_t err_size) noexcept;
  Status stop(VoiceId voice, float fade_ms, char* err, size_t err_size) noexcept;

  Status render(float* out, int frames) noexcept;

  // False when no event is waiting (or a callback takes them).
  bool poll_event(Event* out) noexcept;
  void set_event_callback(EventCallback fn, void* user_data);
  Stats stats() const noexcept;
  // Waits until every voice asked for so far is prepared (handed to the audio thread) and
  // every ambience ring is full; false on timeout. For offline rendering and tests.
  bool sync(double timeout_seconds);

 private:
  Status submit(CommandType type, int model, const float* values, int n_values, uint64_t seed,
                float gain, float pan, Quality quality, VoiceId* voice, char* err, size_t err_size) noexcept;
  Status check_voice(VoiceId voice, const ModelEntry** m, char* err, size_t err_size) const noexcept;
  Status check_values(const ModelEntry& m, const float* values, int n_values, char* err,
                      size_t err_size) const noexcept;
  Status post(Command& c, char* err, size_t err_size) noexcept;

  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Mixer> mixer_;
  std::mutex add_mu_;
  std::atomic<uint64_t> next_serial_{1};
};

}  // namespace fk::engine

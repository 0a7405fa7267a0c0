// A worker thread: everything that may allocate or take long happens here, never on the
// audio thread. It takes commands from game threads (its own MPSC queue), renders one-shots
// (model inference, then offline phase reconstruction) into a voice slot's PCM buffer, keeps
// its ambience voices' PCM rings topped up, and hands voices to the audio thread through its
// own worker -> audio queue. Worker 0 also runs the host's event callback.
//
// A voice is owned by worker (serial % worker_threads) for its whole life, so every command
// about it arrives at the same worker, in the order it was given.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "engine/ambience.hpp"
#include "engine/mpmc_queue.hpp"
#include "engine/shared.hpp"
#include "engine/wake.hpp"

namespace fk::engine {

class Worker {
 public:
  Worker(Shared& shared, int index);
  ~Worker();  // stops and joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void stop();

  // Game threads: false when the queue is full (nothing queued). Then wake().
  bool post(const Command& c) noexcept { return commands_.try_push(c); }
  void wake() { wake_.notify(); }
  // Models this worker has made room for (and warmed up): ids below it.
  int reserved_models() const noexcept { return reserved_published_.load(std::memory_order_acquire); }
  // The last Engine::sync request this worker has fully served.
  uint64_t sync_ack() const noexcept { return sync_ack_.load(std::memory_order_acquire); }
  // The audio thread's end of this worker's hand-over queue.
  MpmcQueue<AudioMessage>& to_audio() noexcept { return to_audio_; }

 private:
  struct Ambience {
    VoiceId voice = 0;
    int slot = -1;
    bool failed = false;
    std::unique_ptr<AmbienceProducer> producer;
  };

  void run();
  bool drain_commands();
  bool reclaim();
  bool refill(bool urgent_only);
  bool reserve_new_models();
  bool prepare_next();
  bool dispatch_events();
  void prepare_oneshot(const Command& c, int slot, const ModelEntry& m);
  void prepare_ambience(const Command& c, int slot, const ModelEntry& m);
  void fail_job(const Command& c, int slot, const char* why);
  void hand_over(const Command& c, int slot, VoiceKind kind, float peak, int64_t length) noexcept;
  const Tier& pick_tier(const Command& c);
  int claim_slot() noexcept;
  bool audio_room() const noexcept { return to_audio_.size_approx() + 1 < to_audio_.capacity(); }
  void send(const AudioMessage& m) noexcept;
  Command* find_waiting(VoiceId v) noexcept;
  Ambience* find_ambience(VoiceId v) noexcept;
  size_t backlog() const noexcept { return waiting_count_ + commands_.size_approx(); }

  Shared& s_;
  const int index_;
  MpmcQueue<Command> commands_;
  MpmcQueue<AudioMessage> to_audio_;
  // Jobs (triggers, starts) taken from the queue but not yet prepared: a FIFO ring. Commands
  // about a waiting voice (stop, new controls, gain) are applied to it here.
  std::vector<Command> waiting_;
  size_t waiting_head_ = 0, waiting_count_ = 0;
  std::vector<Ambience> ambiences_;
  std::vector<float> mel_;  // one clip of log-mel
  int reserved_models_ = 0;  // models whose one-shot buffers are grown (reserve_new_models)
  std::atomic<int> reserved_published_{0};  // the same, for Engine::add_model to wait on
  // One-shot synthesis scratch, grown to the longest clip of the models this worker has
  // rendered (on first use of each): after that, preparing a one-shot allocates nothing.
  dsp::SynthWorkspace synth_ws_;
  int next_slot_ = 0;       // where the slot search starts (spreads slots across workers)
  bool overload_reported_ = false;
  Wake wake_;
  std::atomic<bool> quit_{false};
  std::atomic<uint64_t> sync_ack_{0};
  std::thread thread_;
};

}  // namespace fk::engine

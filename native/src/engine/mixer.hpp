// The audio thread's half of the engine: takes ready voices and stop/gain messages from the
// workers' queues, applies the voice limit (stealing the quietest), and mixes every voice
// into the host's interleaved buffer with gain, constant-power pan and fades.
//
// render() never allocates, locks, logs or throws: every buffer it touches was sized at
// creation, messages arrive through lock-free queues, events leave through one, and the
// slots it is done with are handed back with an atomic store.
#pragma once
#include <atomic>
#include <vector>

#include "dsp/error.hpp"
#include "engine/mpmc_queue.hpp"
#include "engine/shared.hpp"

namespace fk::engine {

class Mixer {
 public:
  Mixer(Shared& shared, std::vector<MpmcQueue<AudioMessage>*> inboxes);
  // frames may exceed max_block_frames: it is rendered in passes. InvalidArgument for a
  // negative count or a null buffer; Unsupported when another thread is inside render.
  Status render(float* out, int frames) noexcept;

 private:
  void pass(float* out, int n) noexcept;
  void take_messages() noexcept;
  void activate(int slot) noexcept;
  void release(AudioVoice& v, int64_t fade) noexcept;
  void finish(int slot) noexcept;
  void set_gains(AudioVoice& v, float gain, float pan, bool immediate) noexcept;
  AudioVoice* find(VoiceId id) noexcept;
  AudioVoice* quietest_audible(int except) noexcept;
  static bool yields_to(const AudioVoice& a, const AudioVoice& b) noexcept;
  int source(AudioVoice& v, int slot, int n) noexcept;
  void mix(AudioVoice& v, const Slot& slot, float* out, int n) noexcept;

  Shared& s_;
  std::vector<MpmcQueue<AudioMessage>*> inbox_;
  std::vector<AudioVoice> voices_;  // one per slot, touched only by the audio thread
  std::vector<float> src_;          // one voice's samples for one pass
  int audible_ = 0;                 // active and not fading out: what max_voices limits
  int64_t gain_ramp_, steal_fade_, min_fade_, starve_fade_;
  std::atomic<bool> busy_{false};
};

}  // namespace fk::engine

// A voice slot: the storage one sounding voice uses, allocated at engine creation, and the
// state machine that passes it between threads.
//
//   Free --(worker claims, CAS)--> Preparing --(worker posts Activate)--> Ready
//   Ready --(audio thread takes it)--> Playing --(sound over, fade done, stolen)-->
//     one-shot: Free (nothing to clean up)
//     ambience: Released --(owning worker frees its stream state)--> Free
//
// The fields below `state` are written only by the worker that claimed the slot, before it
// posts Activate; the audio thread reads them after taking the message (the queue's
// release/acquire orders the two). Used by both at once: the ring, and a one-shot that
// starts playing before its worker finished it (see `ready` and `writer`).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>

#include "engine/messages.hpp"
#include "engine/sample_ring.hpp"

namespace fk::engine {

constexpr int kEnvelopeChunk = 512;

enum class SlotState : int { Free = 0, Preparing, Ready, Playing, Released };
enum class VoiceKind : int { OneShot = 0, Ambience = 1 };

struct Slot {
  std::atomic<int> state{int(SlotState::Free)};
  VoiceId voice = 0;
  int32_t model = -1;
  VoiceKind kind = VoiceKind::OneShot;
  float gain = 1.0f, pan = 0.0f;
  float peak = 0.0f;        // the clip's (or first ring's) peak: its loudness before it plays
  int64_t length = 0;       // one-shot: samples in pcm
  int64_t issued_ns = 0;    // when the host asked for it
  std::unique_ptr<float[]> pcm;  // one-shot clip, or the ambience ring's storage
  size_t capacity = 0;
  // One-shot: peak of pcm from chunk k to the end (k * kEnvelopeChunk samples on), so voice
  // stealing compares what each voice has left to play, not what it has played.
  std::unique_ptr<float[]> remaining_peak;
  SampleRing ring;          // ambience: worker writes, audio reads
  // One-shot: pcm[0, ready) are final. A long clip is activated once its first part is
  // made (ready < length) and the worker writes the rest, then remaining_peak, then stores
  // ready = length (release). Until then the audio thread reads neither pcm past ready nor
  // remaining_peak, and uses `peak` (the first part's) for stealing.
  std::atomic<int64_t> ready{0};
  // Who frees a one-shot slot: 1 while its worker still writes it. The audio thread, ending
  // the voice, swaps 1 for 2 and leaves the slot to the worker; the worker, done, swaps 1
  // for 0, or finding 2, frees the slot itself. Exactly one of them frees it.
  std::atomic<int> writer{0};
};

// A linear ramp advanced per sample, so a fade or gain change lasts the same number of
// samples whatever the host's block size (voices stay deterministic across block sizes).
struct Ramp {
  float value = 0.0f, target = 0.0f, step = 0.0f;
  int64_t left = 0;
  void jump(float v) { value = target = v; step = 0.0f; left = 0; }
  void go(float to, int64_t samples) {
    if (samples <= 0 || to == value) { jump(to); return; }
    target = to;
    left = samples;
    step = (to - value) / float(samples);
  }
  bool moving() const { return left > 0; }
  float next() {
    if (left > 0) {
      value = --left == 0 ? target : value + step;
    }
    return value;
  }
};

// The audio thread's own view of a playing voice (one per slot, touched by no other thread).
struct AudioVoice {
  bool active = false;
  bool releasing = false;  // fading out after stop or steal; no longer counts as audible
  bool starved = false;    // ran dry (ambience ring, or a one-shot still being made); fade
                           // back in when data returns
  bool complete = false;   // one-shot: its worker has finished it (slot.ready == length)
  VoiceId voice = 0;
  int32_t model = -1;
  VoiceKind kind = VoiceKind::OneShot;
  int64_t pos = 0, length = 0;
  int64_t underruns = 0;
  Ramp left, right;        // channel gains (mono uses left)
  Ramp env;                // the stop/steal fade
  float level = 0.0f;      // loudness still to come, after gain: what voice stealing compares
};

}  // namespace fk::engine

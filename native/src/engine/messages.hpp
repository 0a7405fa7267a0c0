// What the engine's threads hand each other. Plain structs, copied through MpmcQueue cells,
// so nothing is allocated or freed in a hand-over.
#pragma once
#include <cstdint>

#include "engine/config.hpp"

namespace fk::engine {

// Controls travel inside the command (no pointer to the caller's array outlives the call).
constexpr int kMaxControls = 64;
// The model's encoded control vector is checked on the calling thread in a stack buffer.
constexpr int kMaxControlVector = 1024;

// A voice id carries its model (low 16 bits) and a serial number (the rest), so commands on a
// voice are checked against its model and routed to the worker that owns it (serial % workers)
// without any shared table. 0 is never a voice.
using VoiceId = uint64_t;
constexpr int kVoiceModelBits = 16;
inline int voice_model(VoiceId v) { return int(v & ((1u << kVoiceModelBits) - 1)); }
inline uint64_t voice_serial(VoiceId v) { return v >> kVoiceModelBits; }

// Game thread -> worker.
enum class CommandType : uint8_t { Trigger, Start, SetControls, SetGain, Stop };

struct Command {
  CommandType type = CommandType::Trigger;
  Quality quality = Quality::Auto;
  bool cancelled = false;  // a waiting job stopped before it was prepared
  int32_t model = 0;
  VoiceId voice = 0;
  uint64_t seed = 0;
  float gain = 1.0f, pan = 0.0f, fade_ms = 0.0f;
  int64_t issued_ns = 0;  // steady clock at trigger: trigger-to-start latency in the event
  int32_t n_values = 0;   // 0: the model's defaults
  float values[kMaxControls] = {};
};

// Worker -> audio thread.
enum class AudioMsgType : uint8_t { Activate, SetGain, Stop };

struct AudioMessage {
  AudioMsgType type = AudioMsgType::Activate;
  int32_t slot = -1;  // Activate
  VoiceId voice = 0;  // SetGain, Stop
  float gain = 1.0f, pan = 0.0f;
  int64_t fade_samples = 0;
};

// Audio thread and workers -> host.
enum class EventType : int32_t {
  VoiceStarted = 0,  // value: microseconds from trigger/start to the block that plays it
  VoiceEnded = 1,    // every voice id ever returned ends exactly once
  VoiceStolen = 2,   // the voice limit took it (an Ended follows when its fade is done)
  Underrun = 3,      // an ambience ran dry; value: that voice's underruns so far
  Overload = 4,      // a worker fell behind; value: one-shots waiting on it
  VoiceFailed = 5,   // the worker could not prepare it (an Ended follows)
};

struct Event {
  EventType type = EventType::VoiceStarted;
  int32_t model = -1;
  VoiceId voice = 0;
  int64_t frame = 0;  // the engine's clock (frames rendered) when it happened
  int64_t value = 0;
};

// Called on worker 0's thread, never the audio thread.
using EventCallback = void (*)(const Event& event, void* user_data);

}  // namespace fk::engine

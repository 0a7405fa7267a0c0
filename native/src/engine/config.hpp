// The engine's settings: fixed at creation, because every buffer the audio thread touches is
// sized from them (voice slots, clip buffers, ambience rings, queues, the mix scratch).
#pragma once
#include <cstdint>

#include "dsp/streaming_synth.hpp"
#include "dsp/synthesis.hpp"

namespace fk::engine {

// Per-voice quality. Auto is the config's default tier, lowered for quiet voices and under
// overload; the others are asked for explicitly and only lowered under overload.
enum class Quality : int { Auto = 0, Low = 1, Medium = 2, High = 3 };
constexpr int kTierCount = 3;  // Low, Medium, High

// What a tier costs: the one-shot phase method (with Griffin-Lim rounds) and the ambience's
// streaming method.
struct Tier {
  dsp::PhaseMethod oneshot = dsp::PhaseMethod::Pghi;
  int gl_iterations = 0;
  dsp::StreamMethod ambience = dsp::StreamMethod::Rtpghi;
};

struct Config {
  int sample_rate = 48000;
  int channels = 2;                   // 1, or 2 interleaved with constant-power pan
  int max_block_frames = 512;         // most frames one internal mix pass renders
  int max_voices = 32;                // audible voices; beyond it the quietest is stolen
  int worker_threads = 1;
  float max_clip_seconds = 2.0f;      // one-shot PCM per voice slot
  int ambience_buffer_samples = 8192; // per ambience voice: how far the worker runs ahead
  int command_capacity = 256;         // per worker
  int event_capacity = 1024;
  int max_models = 16;
  float control_smoothing_ms = 50.0f; // ambience controls glide this long
  float quiet_gain = 0.1f;            // Auto voices below this gain use the Low tier
  int overload_backlog = 8;           // one-shots waiting per worker before new ones go Low
  Quality default_quality = Quality::Medium;
  Tier tiers[kTierCount] = {
      {dsp::PhaseMethod::Pghi, 0, dsp::StreamMethod::Random},            // Low
      {dsp::PhaseMethod::Pghi, 0, dsp::StreamMethod::Rtpghi},            // Medium
      {dsp::PhaseMethod::PghiGriffinLim, 16, dsp::StreamMethod::Rtpghi}, // High
  };
};

// Throws fk::Error (InvalidArgument) naming the first field out of range.
void validate(const Config& c);

// Voice slots: the audible limit plus room for voices fading out after a steal or stop and
// for voices being prepared, so a new voice never waits for a fade to finish.
inline int slot_count(const Config& c) { return c.max_voices + c.max_voices / 2 + 2 * c.worker_threads + 2; }

}  // namespace fk::engine

// The worker side of one ambience voice: the step model's stream, control smoothing, and
// frame-by-frame synthesis (mel -> linear -> StreamingSynth) into the voice's PCM ring.
// Created and used by the one worker that owns the voice; allocates only when created.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "dsp/streaming_synth.hpp"
#include "engine/config.hpp"
#include "engine/model_entry.hpp"
#include "engine/sample_ring.hpp"

namespace fk::engine {

// Continuous controls glide to a new value over a fixed number of model frames (log-spaced
// controls glide geometrically), so a jump in a game parameter does not jump the sound;
// categorical controls switch at once (there is nothing between two choices).
class ControlSmoother {
 public:
  ControlSmoother(const model::Model& m, int frames);
  void reset(const float* values);       // n_controls values, no glide
  void set_target(const float* values);  // glide from where it is now
  bool step();                           // one frame on; true when current() changed
  const float* current() const { return cur_.data(); }

 private:
  struct Control {
    bool categorical = false, log = false;
    float low = 0.0f, high = 1.0f;
  };
  std::vector<Control> c_;
  std::vector<float> from_, to_, cur_;
  int frames_, left_ = 0;
  bool jumped_ = false;
};

class AmbienceProducer {
 public:
  // values: the model's control_count values, or nullptr for its defaults. Throws fk::Error
  // when the model refuses them (the engine validated them already, so only on a bug).
  AmbienceProducer(const ModelEntry& m, const Tier& tier, const float* values, uint64_t seed,
                   int smoothing_frames);
  void set_target(const float* values) { smooth_.set_target(values); }
  // Frames per batch: the synth's vector width, so its inverse FFTs run full.
  int batch_frames() const;
  int batch_samples() const { return batch_frames() * m_.hop; }
  // Runs one batch into `ring`, which must have batch_samples() free. Never allocates.
  // peak, when given, is raised to the batch's peak magnitude.
  Status produce(SampleRing& ring, float* peak = nullptr) noexcept;

 private:
  const ModelEntry& m_;
  std::unique_ptr<model::Session> session_;
  dsp::StreamingSynth synth_;
  ControlSmoother smooth_;
  std::vector<float> mel_, lin_, out_;
  int64_t frame_ = 0;            // model frames produced
  bool controls_pending_ = false;  // the glide moved since the model last got its controls
};

// A step model takes new controls on every kControlStride-th frame of its stream (21 ms at
// 48 kHz and hop 256), the glide's latest value: a Transformer with a K/V cache recomputes
// its whole window when the controls change (about 0.25 ms, 20 steady frames' worth), so a
// game that moves a control on every block would otherwise pay that on every frame.
constexpr int kControlStride = 4;

}  // namespace fk::engine

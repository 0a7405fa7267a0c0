// A model registered with the engine, with everything the workers need to turn its output
// into sound, built once (on the thread that adds it) and read-only afterwards.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "dsp/mel.hpp"
#include "dsp/synthesis.hpp"
#include "engine/config.hpp"
#include "model/model.hpp"

namespace fk::engine {

struct ModelEntry {
  std::shared_ptr<const model::Model> model;  // shared with the host's handle
  bool step = false;                          // ambience (stream) rather than one-shot
  int n_controls = 0, n_mels = 0, n_fft = 0, hop = 0, max_frames = 0;
  int64_t max_clip_samples = 0;               // one-shot: the longest clip it can produce
  std::unique_ptr<dsp::Synthesizer> synth;    // one-shot: log-mel -> waveform (thread-safe)
  std::vector<float> filterbank;              // step: mel -> linear for the streaming synth
  std::unique_ptr<dsp::MelInverse> inverse;
  // One-shot: one session per worker, so workers never share inference state.
  std::vector<std::unique_ptr<model::Session>> sessions;
};

// Builds the entry; throws fk::Error when the engine cannot play the model: a sample rate
// other than the engine's, a clip longer than a voice's buffer, too many controls.
std::unique_ptr<ModelEntry> make_model_entry(std::shared_ptr<const model::Model> m, const Config& c);

}  // namespace fk::engine

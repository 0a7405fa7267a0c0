// The engine's ambience producer hands a control change to its step model on every
// kControlStride-th frame of the stream only, with the glide's value at that frame (a cached
// Transformer recomputes its window on every change). Its samples must equal a stream driven
// by hand that way — the model's own session, the smoother, the mel inverse and a streaming
// synthesizer — and differ from one that takes every glided frame.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "dsp/streaming_synth.hpp"
#include "engine/ambience.hpp"
#include "engine/model_entry.hpp"
#include "model/model.hpp"

namespace en = fk::engine;

namespace {

// Frames 0..frames-1 by hand; controls change before frame `at` (a glide of `glide` frames
// to `to`), handed to the model on frames where take(frame) holds.
template <class Take>
std::vector<float> by_hand(const en::ModelEntry& e, const en::Tier& tier, const float* from, const float* to,
                           uint64_t seed, int glide, int at, int frames, Take take) {
  auto session = e.model->create_session();
  CHECK(session->stream_reset(from, e.n_controls, seed) == fk::Status::Ok);
  en::ControlSmoother smooth(*e.model, glide);
  smooth.reset(from);
  fk::dsp::StreamingSynth synth(e.n_fft, e.hop, tier.ambience, seed);
  const int nb = e.n_fft / 2 + 1;
  std::vector<float> mel(static_cast<size_t>(e.n_mels)), lin(static_cast<size_t>(nb)), out,
      block(static_cast<size_t>(e.hop) * 2);
  bool pending = false;
  for (int f = 0; f < frames; ++f) {
    if (f == at) smooth.set_target(to);
    pending |= smooth.step();
    if (pending && take(f)) {
      CHECK(session->stream_set_controls(smooth.current(), e.n_controls) == fk::Status::Ok);
      pending = false;
    }
    CHECK(session->stream_next(mel.data(), 1) == fk::Status::Ok);
    for (float& v : mel) v = std::exp(v);
    e.inverse->apply_frame(mel.data(), lin.data());
    int64_t written = 0;
    CHECK(synth.push(lin.data(), 1, 1, nb, block.data(), int64_t(block.size()), &written) == fk::Status::Ok);
    out.insert(out.end(), block.begin(), block.begin() + written);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: test_ambience_controls <folder with ambiences.fkm>\n");
    return 2;
  }
  const en::Config cfg;
  auto entry = en::make_model_entry(fk::model::Model::load(std::string(argv[1]) + "/ambiences.fkm"), cfg);
  const en::ModelEntry& e = *entry;
  const en::Tier& tier = cfg.tiers[1];
  std::vector<float> from(size_t(e.n_controls)), to;
  e.model->default_controls(from.data());
  to = from;
  int moved = 0;
  for (size_t i = 0; i < e.model->controls().size(); ++i) {
    const auto& c = e.model->controls()[i];
    if (c.categorical) continue;
    to[i] = c.low + 0.9f * (c.high - c.low);  // every continuous control moves
    moved += to[i] != from[i];
  }
  CHECK(moved > 0);
  const uint64_t seed = 11;
  const int glide = 10;
  en::AmbienceProducer producer(e, tier, from.data(), seed, glide);
  const int batch = producer.batch_frames(), batches = 6;
  std::vector<float> storage(size_t(producer.batch_samples()) * batches), got;
  en::SampleRing ring;
  ring.attach(storage.data(), storage.size());
  for (int b = 0; b < batches; ++b) {
    if (b == 2) producer.set_target(to.data());  // before frame 2 * batch
    CHECK(producer.produce(ring) == fk::Status::Ok);
  }
  got.resize(ring.readable());
  ring.read(got.data(), got.size());

  const int frames = batch * batches, at = 2 * batch;
  const std::vector<float> strided = by_hand(e, tier, from.data(), to.data(), seed, glide, at, frames,
                                             [](int f) { return f % en::kControlStride == 0; });
  const std::vector<float> every = by_hand(e, tier, from.data(), to.data(), seed, glide, at, frames,
                                           [](int) { return true; });
  CHECK(got.size() == strided.size() && !got.empty());
  CHECK(got.size() == strided.size() && std::memcmp(got.data(), strided.data(), got.size() * sizeof(float)) == 0);
  // The stride is visible: taking every glided frame gives other samples after the change
  // (and the same before it).
  CHECK(every.size() == strided.size());
  // Frame `at`'s window and the synth's look-ahead reach a few frames back into the output.
  const size_t change = size_t(at - 6) * size_t(e.hop);
  bool same_before = true, differs_after = false;
  for (size_t i = 0; i < every.size(); ++i) {
    if (i < change) same_before = same_before && every[i] == strided[i];
    else differs_after = differs_after || every[i] != strided[i];
  }
  CHECK(same_before);
  CHECK(differs_after);
  return fk_check_summary("test_ambience_controls");
}

#include "engine/model_entry.hpp"

#include <string>

#include "dsp/error.hpp"
#include "engine/messages.hpp"

namespace fk::engine {

std::unique_ptr<ModelEntry> make_model_entry(std::shared_ptr<const model::Model> m, const Config& c) {
  if (!m) throw Error(Status::InvalidArgument, "model must not be NULL");
  const model::ModelInfo& info = m->info();
  if (info.sample_rate != c.sample_rate)
    throw Error(Status::Unsupported,
                "wrong sample rate: the model runs at " + std::to_string(info.sample_rate) +
                    " Hz, the engine at " + std::to_string(c.sample_rate) +
                    " Hz (create the engine at the model's rate, or resample the host's output)");
  if (m->controls().size() > size_t(kMaxControls))
    throw Error(Status::Unsupported, "the model has " + std::to_string(m->controls().size()) +
                                         " controls; the engine takes at most " +
                                         std::to_string(kMaxControls));
  if (info.control_dim > kMaxControlVector)
    throw Error(Status::Unsupported, "the model's control vector has " +
                                         std::to_string(info.control_dim) + " entries; the engine takes at most " +
                                         std::to_string(kMaxControlVector));
  auto e = std::make_unique<ModelEntry>();
  e->model = m;
  e->step = info.mode == model::Mode::Step;
  e->n_controls = int(m->controls().size());
  e->n_mels = info.n_mels;
  e->n_fft = info.n_fft;
  e->hop = info.hop;
  e->max_frames = info.max_frames;

  dsp::FeatureSettings s;
  s.sample_rate = info.sample_rate;
  s.n_fft = info.n_fft;
  s.hop = info.hop;
  s.n_mels = info.n_mels;
  s.fmin = info.fmin;
  s.fmax = info.fmax;
  s.log_floor = info.log_floor;
  dsp::validate_settings(s);
  if (e->step) {
    const double fmax = s.fmax > 0 ? s.fmax : s.sample_rate / 2;
    e->filterbank = dsp::mel_filterbank(s.sample_rate, s.n_fft, s.n_mels, s.fmin, fmax);
    e->inverse = std::make_unique<dsp::MelInverse>(e->filterbank.data(), s.n_mels, s.n_fft / 2 + 1);
  } else {
    // The clip is rendered to max_frames * hop samples, as Runtime.render does.
    e->max_clip_samples = int64_t(info.max_frames) * info.hop;
    const int64_t cap = int64_t(double(c.max_clip_seconds) * c.sample_rate);
    if (e->max_clip_samples > cap)
      throw Error(Status::Unsupported,
                  "the model's clips last up to " + std::to_string(e->max_clip_samples) +
                      " samples; a voice holds " + std::to_string(cap) +
                      " (raise fk_engine_config.max_clip_seconds)");
    e->synth = std::make_unique<dsp::Synthesizer>(s);
    for (int w = 0; w < c.worker_threads; ++w) e->sessions.push_back(m->create_session());
  }
  return e;
}

}  // namespace fk::engine

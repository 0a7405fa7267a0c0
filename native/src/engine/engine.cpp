#include "engine/engine.hpp"

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "engine/mixer.hpp"
#include "engine/shared.hpp"
#include "engine/worker.hpp"

namespace fk::engine {

namespace {

// Formats a message into the caller's buffer (no allocation) and returns the status.
Status say(Status st, char* err, size_t size, const char* fmt, ...) {
  if (err && size) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err, size, fmt, ap);
    va_end(ap);
  }
  return st;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Engine::Engine(const Config& config) {
  validate(config);
  shared_ = std::make_unique<Shared>(config);
  // Every slot's buffer holds the longest clip or an ambience ring, whichever is larger.
  const size_t cap = std::max<size_t>(size_t(double(config.max_clip_seconds) * config.sample_rate),
                                      size_t(config.ambience_buffer_samples));
  for (int i = 0; i < shared_->slot_total; ++i) {
    Slot& s = shared_->slots[size_t(i)];
    s.pcm.reset(new float[cap]());
    s.capacity = cap;
    s.remaining_peak.reset(new float[cap / size_t(kEnvelopeChunk) + 1]());
  }
  std::vector<MpmcQueue<AudioMessage>*> inboxes;
  for (int w = 0; w < config.worker_threads; ++w) {
    workers_.push_back(std::make_unique<Worker>(*shared_, w));
    inboxes.push_back(&workers_.back()->to_audio());
  }
  mixer_ = std::make_unique<Mixer>(*shared_, std::move(inboxes));
  for (auto& w : workers_) w->start();
}

Engine::~Engine() {
  for (auto& w : workers_) w->stop();
}

const Config& Engine::config() const noexcept { return shared_->config; }

int Engine::add_model(std::shared_ptr<const model::Model> m) {
  std::unique_ptr<ModelEntry> e = make_model_entry(std::move(m), shared_->config);
  if (e->step) {
    // The worker writes whole batches into the ring: it must hold two.
    const size_t batch = size_t(dsp::kFftLanes) * size_t(e->hop);
    const size_t ring = std::min(shared_->slots[0].capacity, size_t(shared_->config.ambience_buffer_samples));
    if (ring < 2 * batch)
      throw Error(Status::Unsupported, "the model's hop of " + std::to_string(e->hop) +
                                           " samples needs ambience_buffer_samples >= " +
                                           std::to_string(2 * batch));
  }
  int id;
  {
    std::lock_guard<std::mutex> lock(add_mu_);
    id = shared_->model_count.load(std::memory_order_relaxed);
    if (id >= shared_->config.max_models)
      throw Error(Status::Unsupported, "the engine already has " + std::to_string(id) +
                                           " models (fk_engine_config.max_models)");
    shared_->models[size_t(id)] = std::move(e);
    shared_->model_count.store(id + 1, std::memory_order_release);  // publishes the entry
  }
  // The workers size their buffers for it and warm it up (one clip of a one-shot model);
  // waiting for that here, on the loading thread, keeps it out of the first trigger's
  // latency. Bounded: a worker busy for longer does it after its current job.
  for (auto& w : workers_) w->wake();
  shared_->wait_sync(
      [&] {
        for (auto& w : workers_)
          if (w->reserved_models() <= id) return false;
        return true;
      },
      std::chrono::steady_clock::now() + std::chrono::seconds(2));
  return id;
}

int Engine::model_count() const noexcept { return shared_->model_count.load(std::memory_order_acquire); }

std::shared_ptr<const model::Model> Engine::model(int id) const noexcept {
  const ModelEntry* e = shared_->model(id);
  return e ? e->model : nullptr;
}

Status Engine::check_values(const ModelEntry& m, const float* values, int n_values, char* err,
                            size_t err_size) const noexcept {
  if (!values) {
    if (n_values != 0)
      return say(Status::InvalidArgument, err, err_size, "values is NULL but n_values is %d", n_values);
    return Status::Ok;
  }
  if (n_values != m.n_controls)
    return say(Status::InvalidArgument, err, err_size, "expected %d control values, got %d", m.n_controls,
               n_values);
  float vec[kMaxControlVector];  // add_model refused larger control vectors
  return m.model->encode_controls(values, n_values, vec, err, err_size);
}

Status Engine::post(Command& c, char* err, size_t err_size) noexcept {
  Worker& w = *workers_[size_t(voice_serial(c.voice) % workers_.size())];
  if (!w.post(c)) {
    shared_->counters.overloads.fetch_add(1, std::memory_order_relaxed);
    return say(Status::Busy, err, err_size,
               "the engine's command queue is full (%d commands): its worker is behind, or "
               "render is not being called",
               shared_->config.command_capacity);
  }
  w.wake();
  return Status::Ok;
}

Status Engine::submit(CommandType type, int model_id, const float* values, int n_values, uint64_t seed,
                      float gain, float pan, Quality quality, VoiceId* voice, char* err,
                      size_t err_size) noexcept {
  if (voice) *voice = 0;
  if (!voice) return say(Status::InvalidArgument, err, err_size, "the voice output must not be NULL");
  const ModelEntry* m = shared_->model(model_id);
  if (!m)
    return say(Status::InvalidArgument, err, err_size, "unknown model id %d (the engine has %d models)",
               model_id, model_count());
  if (type == CommandType::Trigger && m->step)
    return say(Status::Unsupported, err, err_size,
               "model %d is an ambience (step) model: start it (fk_engine_start), not trigger", model_id);
  if (type == CommandType::Start && !m->step)
    return say(Status::Unsupported, err, err_size,
               "model %d is a one-shot model: trigger it (fk_engine_trigger), not start", model_id);
  const Status st = check_values(*m, values, n_values, err, err_size);
  if (st != Status::Ok) return st;
  if (!(std::isfinite(gain) && gain >= 0.0f && gain <= 16.0f))
    return say(Status::InvalidArgument, err, err_size, "gain must be in [0, 16], got %g", double(gain));
  if (!(std::isfinite(pan) && pan >= -1.0f && pan <= 1.0f))
    return say(Status::InvalidArgument, err, err_size, "pan must be in [-1, 1], got %g", double(pan));
  if (quality < Quality::Auto || quality > Quality::High)
    return say(Status::InvalidArgument, err, err_size, "unknown quality %d", int(quality));

  Command c;
  c.type = type;
  c.quality = quality;
  c.model = model_id;
  c.seed = seed;
  c.gain = gain;
  c.pan = pan;
  c.n_values = values ? n_values : 0;
  if (values) std::memcpy(c.values, values, sizeof(float) * size_t(n_values));
  c.voice = (next_serial_.fetch_add(1, std::memory_order_relaxed) << kVoiceModelBits) | uint64_t(model_id);
  c.issued_ns = now_ns();
  // Counted before the worker can see the job, so sync() never misses it.
  shared_->counters.jobs_pending.fetch_add(1, std::memory_order_acq_rel);
  const Status ps = post(c, err, err_size);
  if (ps != Status::Ok) {
    shared_->counters.jobs_pending.fetch_sub(1, std::memory_order_acq_rel);
    return ps;
  }
  *voice = c.voice;
  return Status::Ok;
}

Status Engine::trigger(int model, const float* values, int n_values, uint64_t seed, float gain, float pan,
                       Quality quality, VoiceId* voice, char* err, size_t err_size) noexcept {
  return submit(CommandType::Trigger, model, values, n_values, seed, gain, pan, quality, voice, err, err_size);
}

Status Engine::start(int model, const float* values, int n_values, uint64_t seed, float gain, float pan,
                     Quality quality, VoiceId* voice, char* err, size_t err_size) noexcept {
  return submit(CommandType::Start, model, values, n_values, seed, gain, pan, quality, voice, err, err_size);
}

Status Engine::check_voice(VoiceId voice, const ModelEntry** m, char* err, size_t err_size) const noexcept {
  const uint64_t serial = voice_serial(voice);
  *m = shared_->model(voice_model(voice));
  if (serial == 0 || serial >= next_serial_.load(std::memory_order_relaxed) || !*m)
    return say(Status::InvalidArgument, err, err_size, "unknown voice id %llu",
               static_cast<unsigned long long>(voice));
  return Status::Ok;
}

Status Engine::set_controls(VoiceId voice, const float* values, int n_values, char* err,
                            size_t err_size) noexcept {
  const ModelEntry* m = nullptr;
  Status st = check_voice(voice, &m, err, err_size);
  if (st != Status::Ok) return st;
  if (!m->step)
    return say(Status::Unsupported, err, err_size,
               "voice %llu plays a one-shot, whose sound is made when it is triggered; only its "
               "gain, pan and stop apply",
               static_cast<unsigned long long>(voice));
  if (!values) return say(Status::InvalidArgument, err, err_size, "values must not be NULL");
  st = check_values(*m, values, n_values, err, err_size);
  if (st != Status::Ok) return st;
  Command c;
  c.type = CommandType::SetControls;
  c.voice = voice;
  c.model = voice_model(voice);
  c.n_values = n_values;
  std::memcpy(c.values, values, sizeof(float) * size_t(n_values));
  return post(c, err, err_size);
}

Status Engine::set_gain(VoiceId voice, float gain, float pan, char* err, size_t err_size) noexcept {
  const ModelEntry* m = nullptr;
  Status st = check_voice(voice, &m, err, err_size);
  if (st != Status::Ok) return st;
  if (!(std::isfinite(gain) && gain >= 0.0f && gain <= 16.0f))
    return say(Status::InvalidArgument, err, err_size, "gain must be in [0, 16], got %g", double(gain));
  if (!(std::isfinite(pan) && pan >= -1.0f && pan <= 1.0f))
    return say(Status::InvalidArgument, err, err_size, "pan must be in [-1, 1], got %g", double(pan));
  Command c;
  c.type = CommandType::SetGain;
  c.voice = voice;
  c.model = voice_model(voice);
  c.gain = gain;
  c.pan = pan;
  return post(c, err, err_size);
}

Status Engine::stop(VoiceId voice, float fade_ms, char* err, size_t err_size) noexcept {
  const ModelEntry* m = nullptr;
  Status st = check_voice(voice, &m, err, err_size);
  if (st != Status::Ok) return st;
  if (!(std::isfinite(fade_ms) && fade_ms >= 0.0f && fade_ms <= 60000.0f))
    return say(Status::InvalidArgument, err, err_size, "fade_ms must be in [0, 60000], got %g",
               double(fade_ms));
  Command c;
  c.type = CommandType::Stop;
  c.voice = voice;
  c.model = voice_model(voice);
  c.fade_ms = fade_ms;
  return post(c, err, err_size);
}

Status Engine::render(float* out, int frames) noexcept { return mixer_->render(out, frames); }

bool Engine::poll_event(Event* out) noexcept {
  if (!out || shared_->callback.armed.load(std::memory_order_acquire)) return false;
  return shared_->events.try_pop(*out);
}

void Engine::set_event_callback(EventCallback fn, void* user_data) {
  CallbackHub& hub = shared_->callback;
  {
    std::lock_guard<std::mutex> lock(hub.mu);  // waits for a call in progress
    hub.fn = fn;
    hub.user = user_data;
    hub.armed.store(fn != nullptr, std::memory_order_release);
  }
  if (fn) workers_[0]->wake();
}

Stats Engine::stats() const noexcept {
  const Counters& c = shared_->counters;
  auto ld = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  Stats s;
  s.voices_playing = ld(c.playing);
  s.voices_ready = ld(c.ready);
  s.models = model_count();
  s.jobs_pending = c.jobs_pending.load(std::memory_order_acquire);
  s.voices_started = ld(c.started);
  s.voices_ended = ld(c.ended);
  s.voices_stolen = ld(c.stolen);
  s.underruns = ld(c.underruns);
  s.overloads = ld(c.overloads);
  s.events_dropped = ld(c.events_dropped);
  s.frames_rendered = ld(c.frames_rendered);
  s.oneshots_rendered = ld(c.oneshots_rendered);
  s.ambience_frames = ld(c.ambience_frames);
  s.worker_busy_ns = ld(c.worker_busy_ns);
  s.ready_latency_ns = ld(c.ready_latency_ns);
  s.oneshots_early = ld(c.oneshots_early);
  return s;
}

bool Engine::sync(double timeout_seconds) {
  const uint64_t request = shared_->sync_request.fetch_add(1, std::memory_order_acq_rel) + 1;
  for (auto& w : workers_) w->wake();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(int64_t(std::max(0.0, timeout_seconds) * 1e6));
  return shared_->wait_sync(
      [&] {
        bool d = shared_->counters.jobs_pending.load(std::memory_order_acquire) == 0;
        for (auto& w : workers_) d = d && w->sync_ack() >= request;
        return d;
      },
      deadline);
}

}  // namespace fk::engine

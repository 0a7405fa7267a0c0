// The C ABI of the engine (fk_engine_*): a handle over fk::engine::Engine. Game-thread calls
// write their error message straight into the calling thread's fixed last-error buffer, so
// even a refused trigger allocates nothing; fk_engine_render returns bare codes.
#include <cstring>
#include <memory>
#include <mutex>

#include "c_api/c_api_util.hpp"
#include "c_api/handles.hpp"
#include "engine/engine.hpp"
#include "foleykit/foleykit.h"
#include "model/model.hpp"

using fk::Status;
using fk::capi::fail;
using fk::capi::guarded;
using fk::capi::to_result;
namespace fe = fk::engine;

namespace {

// The C callback and its user data, handed to the engine as its user pointer.
struct CallbackPair {
  fk_engine_event_callback fn;
  void* user;
};

}  // namespace

struct fk_engine {
  explicit fk_engine(const fe::Config& c) : engine(c) {}
  // Declared before the engine, so destroyed after it: its workers are joined before the
  // callback pair they may be using is freed.
  std::unique_ptr<CallbackPair> callback;
  std::mutex callback_mu;  // serialises fk_engine_set_event_callback callers
  fe::Engine engine;
};

namespace {

fk_result game_result(Status st) {
  // The engine already wrote the message into this thread's last-error buffer.
  return to_result(st);
}

char* err_buf() { return fk::capi::last_error(); }
constexpr size_t kErr = fk::capi::kLastErrorBytes;

static_assert(sizeof(fk_voice_id) == sizeof(fe::VoiceId), "voice ids must match");

fe::Config config_from(const fk_engine_config& c) {
  fe::Config k;
  k.sample_rate = c.sample_rate;
  k.channels = c.channels;
  k.max_block_frames = c.max_block_frames;
  k.max_voices = c.max_voices;
  k.worker_threads = c.worker_threads;
  k.max_clip_seconds = c.max_clip_seconds;
  k.ambience_buffer_samples = c.ambience_buffer_samples;
  k.command_capacity = c.command_capacity;
  k.event_capacity = c.event_capacity;
  k.max_models = c.max_models;
  k.control_smoothing_ms = c.control_smoothing_ms;
  k.quiet_gain = c.quiet_gain;
  k.overload_backlog = c.overload_backlog;
  k.default_quality = static_cast<fe::Quality>(static_cast<int>(c.default_quality));
  for (int i = 0; i < FK_ENGINE_TIER_COUNT; ++i) {
    k.tiers[i].oneshot = static_cast<fk::dsp::PhaseMethod>(static_cast<int>(c.tiers[i].oneshot_method));
    k.tiers[i].gl_iterations = c.tiers[i].gl_iterations;
    k.tiers[i].ambience = static_cast<fk::dsp::StreamMethod>(static_cast<int>(c.tiers[i].ambience_method));
  }
  return k;
}

void event_to_c(const fe::Event& e, fk_engine_event* out) {
  out->type = static_cast<fk_engine_event_type>(static_cast<int>(e.type));
  out->model = e.model;
  out->voice = e.voice;
  out->frame = e.frame;
  out->value = e.value;
}

void call_c(const fe::Event& e, void* user) {
  const auto* p = static_cast<const CallbackPair*>(user);
  fk_engine_event ce;
  event_to_c(e, &ce);
  p->fn(&ce, p->user);
}

}  // namespace

extern "C" {

fk_engine_config fk_engine_config_default(void) {
  const fe::Config k;
  fk_engine_config c;
  std::memset(&c, 0, sizeof c);
  c.version = FK_CONFIG_VERSION;
  c.sample_rate = k.sample_rate;
  c.channels = k.channels;
  c.max_block_frames = k.max_block_frames;
  c.max_voices = k.max_voices;
  c.worker_threads = k.worker_threads;
  c.max_clip_seconds = k.max_clip_seconds;
  c.ambience_buffer_samples = k.ambience_buffer_samples;
  c.command_capacity = k.command_capacity;
  c.event_capacity = k.event_capacity;
  c.max_models = k.max_models;
  c.control_smoothing_ms = k.control_smoothing_ms;
  c.quiet_gain = k.quiet_gain;
  c.overload_backlog = k.overload_backlog;
  c.default_quality = static_cast<fk_engine_quality>(static_cast<int>(k.default_quality));
  for (int i = 0; i < FK_ENGINE_TIER_COUNT; ++i) {
    c.tiers[i].oneshot_method = static_cast<fk_phase_method>(static_cast<int>(k.tiers[i].oneshot));
    c.tiers[i].gl_iterations = k.tiers[i].gl_iterations;
    c.tiers[i].ambience_method = static_cast<fk_stream_method>(static_cast<int>(k.tiers[i].ambience));
  }
  return c;
}

fk_result fk_engine_create(const fk_engine_config* config, fk_engine** out) {
  if (out) *out = nullptr;
  if (!config || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "config and out must not be NULL");
  if (config->version != FK_CONFIG_VERSION)
    return fail(FK_RESULT_VERSION_MISMATCH, "fk_engine_config.version is not FK_CONFIG_VERSION");
  return guarded([&] {
    *out = new fk_engine(config_from(*config));
    return FK_RESULT_OK;
  });
}

void fk_engine_destroy(fk_engine* engine) { delete engine; }

fk_result fk_engine_add_model(fk_engine* engine, const fk_model* model, int32_t* out_model_id) {
  if (out_model_id) *out_model_id = -1;
  if (!engine || !model || !out_model_id)
    return fail(FK_RESULT_INVALID_ARGUMENT, "engine, model and out_model_id must not be NULL");
  return guarded([&] {
    *out_model_id = engine->engine.add_model(model->model);
    return FK_RESULT_OK;
  });
}

fk_result fk_engine_trigger(fk_engine* engine, int32_t model_id, const float* values, int32_t n_values,
                            uint64_t seed, float gain, float pan, fk_engine_quality quality,
                            fk_voice_id* out_voice) {
  if (!engine) return fail(FK_RESULT_INVALID_ARGUMENT, "engine must not be NULL");
  return game_result(engine->engine.trigger(model_id, values, n_values, seed, gain, pan,
                                            static_cast<fe::Quality>(static_cast<int>(quality)),
                                            out_voice, err_buf(), kErr));
}

fk_result fk_engine_start(fk_engine* engine, int32_t model_id, const float* values, int32_t n_values,
                          uint64_t seed, float gain, float pan, fk_engine_quality quality,
                          fk_voice_id* out_voice) {
  if (!engine) return fail(FK_RESULT_INVALID_ARGUMENT, "engine must not be NULL");
  return game_result(engine->engine.start(model_id, values, n_values, seed, gain, pan,
                                          static_cast<fe::Quality>(static_cast<int>(quality)),
                                          out_voice, err_buf(), kErr));
}

fk_result fk_engine_set_controls(fk_engine* engine, fk_voice_id voice, const float* values,
                                 int32_t n_values) {
  if (!engine) return fail(FK_RESULT_INVALID_ARGUMENT, "engine must not be NULL");
  return game_result(engine->engine.set_controls(voice, values, n_values, err_buf(), kErr));
}

fk_result fk_engine_set_voice_gain(fk_engine* engine, fk_voice_id voice, float gain, float pan) {
  if (!engine) return fail(FK_RESULT_INVALID_ARGUMENT, "engine must not be NULL");
  return game_result(engine->engine.set_gain(voice, gain, pan, err_buf(), kErr));
}

fk_result fk_engine_stop(fk_engine* engine, fk_voice_id voice, float fade_ms) {
  if (!engine) return fail(FK_RESULT_INVALID_ARGUMENT, "engine must not be NULL");
  return game_result(engine->engine.stop(voice, fade_ms, err_buf(), kErr));
}

// Real-time path: bare codes, no message (the last-error buffer is not touched).
fk_result fk_engine_render(fk_engine* engine, float* out, int32_t frames) {
  if (!engine) return FK_RESULT_INVALID_ARGUMENT;
  return to_result(engine->engine.render(out, frames));
}

fk_bool32 fk_engine_poll_event(fk_engine* engine, fk_engine_event* out) {
  if (!engine || !out) return 0;
  fe::Event e;
  if (!engine->engine.poll_event(&e)) return 0;
  event_to_c(e, out);
  return 1;
}

fk_result fk_engine_set_event_callback(fk_engine* engine, fk_engine_event_callback callback,
                                       void* user_data) {
  if (!engine) return fail(FK_RESULT_INVALID_ARGUMENT, "engine must not be NULL");
  return guarded([&] {
    std::lock_guard<std::mutex> lock(engine->callback_mu);
    std::unique_ptr<CallbackPair> next(callback ? new CallbackPair{callback, user_data} : nullptr);
    engine->engine.set_event_callback(callback ? call_c : nullptr, next.get());
    // set_event_callback returned: no call to the previous pair is in progress any more.
    engine->callback = std::move(next);
    return FK_RESULT_OK;
  });
}

fk_result fk_engine_get_stats(const fk_engine* engine, fk_engine_stats* out) {
  if (!engine || !out) return FK_RESULT_INVALID_ARGUMENT;
  const fe::Stats s = engine->engine.stats();
  std::memset(out, 0, sizeof *out);
  out->voices_playing = s.voices_playing;
  out->voices_ready = s.voices_ready;
  out->models = s.models;
  out->jobs_pending = s.jobs_pending;
  out->voices_started = s.voices_started;
  out->voices_ended = s.voices_ended;
  out->voices_stolen = s.voices_stolen;
  out->underruns = s.underruns;
  out->overloads = s.overloads;
  out->events_dropped = s.events_dropped;
  out->frames_rendered = s.frames_rendered;
  out->oneshots_rendered = s.oneshots_rendered;
  out->ambience_frames = s.ambience_frames;
  out->worker_busy_ns = s.worker_busy_ns;
  out->ready_latency_ns = s.ready_latency_ns;
  out->oneshots_early = s.oneshots_early;
  return FK_RESULT_OK;
}

fk_bool32 fk_engine_sync(fk_engine* engine, int32_t timeout_ms) {
  if (!engine) return 0;
  return engine->engine.sync(timeout_ms / 1000.0) ? 1 : 0;
}

}  // extern "C"

// The C ABI of the model runtime (fk_model_*): handles over fk::model::Model and Session.
#include <cstring>
#include <memory>
#include <string>

#include "c_api/c_api_util.hpp"
#include "c_api/handles.hpp"
#include "foleykit/foleykit.h"
#include "model/model.hpp"

using fk::Status;
using fk::capi::fail;
using fk::capi::guarded;
using fk::capi::to_result;
namespace fm = fk::model;

struct fk_model_session {
  std::shared_ptr<const fm::Model> model;  // keeps the model alive, whatever the host does
  std::unique_ptr<fm::Session> session;
};

namespace {

fk_result session_result(fk_model_session* s, Status st) {
  if (st != Status::Ok) fail(to_result(st), s->session->last_error());
  return to_result(st);
}

}  // namespace

extern "C" {

fk_result fk_model_load(const char* path, fk_model** out) {
  if (out) *out = nullptr;
  if (!path || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "path and out must not be NULL");
  return guarded([&] {
    auto m = fm::Model::load(path);
    *out = new fk_model{std::move(m)};
    return FK_RESULT_OK;
  });
}

fk_result fk_model_load_memory(const void* data, size_t size, fk_model** out) {
  if (out) *out = nullptr;
  if (!data || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "data and out must not be NULL");
  return guarded([&] {
    auto m = fm::Model::load_memory(static_cast<const uint8_t*>(data), size);
    *out = new fk_model{std::move(m)};
    return FK_RESULT_OK;
  });
}

void fk_model_destroy(fk_model* model) { delete model; }

fk_result fk_model_get_info(const fk_model* model, fk_model_info* out) {
  if (!model || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "model and out must not be NULL");
  const fm::ModelInfo& i = model->model->info();
  std::memset(out, 0, sizeof *out);
  out->family = static_cast<fk_model_family>(static_cast<int>(i.family));
  out->mode = static_cast<fk_model_mode>(static_cast<int>(i.mode));
  out->spectrogram = fk_synth_config_default();
  out->spectrogram.sample_rate = float(i.sample_rate);
  out->spectrogram.n_fft = i.n_fft;
  out->spectrogram.hop = i.hop;
  out->spectrogram.n_mels = i.n_mels;
  out->spectrogram.fmin = i.fmin;
  out->spectrogram.fmax = i.fmax;
  out->spectrogram.log_floor = i.log_floor;
  out->max_frames = i.max_frames;
  out->window_frames = i.window;
  out->control_count = int32_t(model->model->controls().size());
  out->control_vector_size = i.control_dim;
  out->z_dim = i.z_dim;
  return FK_RESULT_OK;
}

fk_result fk_model_get_control(const fk_model* model, int32_t index, fk_control_info* out) {
  if (!model || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "model and out must not be NULL");
  const auto& cs = model->model->controls();
  if (index < 0 || size_t(index) >= cs.size())
    return fail(FK_RESULT_INVALID_ARGUMENT, "control index out of range");
  const fm::ControlInfo& c = cs[size_t(index)];
  out->name = c.name.c_str();
  out->categorical = c.categorical ? 1 : 0;
  out->choice_count = int32_t(c.choices.size());
  out->low = float(c.low);
  out->high = float(c.high);
  out->log_scale = c.log ? 1 : 0;
  out->default_value = c.default_value;
  out->unit = c.unit.c_str();
  return FK_RESULT_OK;
}

const char* fk_model_control_choice(const fk_model* model, int32_t control, int32_t choice) {
  if (!model) return nullptr;
  const auto& cs = model->model->controls();
  if (control < 0 || size_t(control) >= cs.size()) return nullptr;
  const auto& ch = cs[size_t(control)].choices;
  if (choice < 0 || size_t(choice) >= ch.size()) return nullptr;
  return ch[size_t(choice)].c_str();
}

int32_t fk_model_find_control(const fk_model* model, const char* name) {
  if (!model || !name) return -1;
  const auto& cs = model->model->controls();
  for (size_t i = 0; i < cs.size(); ++i)
    if (cs[i].name == name) return int32_t(i);
  return -1;
}

int32_t fk_model_find_choice(const fk_model* model, int32_t control, const char* choice) {
  if (!model || !choice) return -1;
  const auto& cs = model->model->controls();
  if (control < 0 || size_t(control) >= cs.size()) return -1;
  const auto& ch = cs[size_t(control)].choices;
  for (size_t i = 0; i < ch.size(); ++i)
    if (ch[i] == choice) return int32_t(i);
  return -1;
}

fk_result fk_model_default_controls(const fk_model* model, float* values, int32_t capacity) {
  if (!model || (!values && capacity > 0))
    return fail(FK_RESULT_INVALID_ARGUMENT, "model and values must not be NULL");
  if (size_t(capacity < 0 ? 0 : capacity) < model->model->controls().size())
    return fail(FK_RESULT_BUFFER_TOO_SMALL, "capacity is below the model's control count");
  model->model->default_controls(values);
  return FK_RESULT_OK;
}

fk_result fk_model_session_create(const fk_model* model, fk_model_session** out) {
  if (out) *out = nullptr;
  if (!model || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "model and out must not be NULL");
  return guarded([&] {
    *out = new fk_model_session{model->model, model->model->create_session()};
    return FK_RESULT_OK;
  });
}

void fk_model_session_destroy(fk_model_session* session) { delete session; }

fk_result fk_model_generate(fk_model_session* session, const float* values, int32_t n_values,
                            uint64_t seed, float* log_mel, int32_t capacity_frames,
                            int32_t* out_frames) {
  if (out_frames) *out_frames = 0;
  if (!session || !log_mel || !out_frames)
    return fail(FK_RESULT_INVALID_ARGUMENT, "session, log_mel and out_frames must not be NULL");
  if (session->model->info().mode != fm::Mode::OneShot)
    return fail(FK_RESULT_UNSUPPORTED, "fk_model_generate needs a one-shot model; this one "
                                       "streams (use fk_model_stream_next)");
  int frames = 0;
  const Status st = session->session->generate(values, n_values, seed, log_mel, capacity_frames,
                                               &frames);
  *out_frames = frames;
  return session_result(session, st);
}

fk_result fk_model_stream_reset(fk_model_session* session, const float* values, int32_t n_values,
                                uint64_t seed) {
  if (!session) return fail(FK_RESULT_INVALID_ARGUMENT, "session must not be NULL");
  if (session->model->info().mode != fm::Mode::Step)
    return fail(FK_RESULT_UNSUPPORTED, "fk_model_stream_reset needs a step (ambience) model; "
                                       "this one is one-shot (use fk_model_generate)");
  return session_result(session, session->session->stream_reset(values, n_values, seed));
}

fk_result fk_model_stream_set_controls(fk_model_session* session, const float* values,
                                       int32_t n_values) {
  if (!session) return fail(FK_RESULT_INVALID_ARGUMENT, "session must not be NULL");
  return session_result(session, session->session->stream_set_controls(values, n_values));
}

fk_result fk_model_stream_next(fk_model_session* session, float* log_mel, int32_t n_frames) {
  if (!session) return fail(FK_RESULT_INVALID_ARGUMENT, "session must not be NULL");
  return session_result(session, session->session->stream_next(log_mel, n_frames));
}

}  // extern "C"

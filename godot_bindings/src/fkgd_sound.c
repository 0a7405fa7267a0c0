/* fkgd_sound: see fkgd_sound.h. */
#include "fkgd_sound.h"

#include "fk_model_weak.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fkgd_voice {
  float* samples;
  int64_t len, pos;
  float gain;
} fkgd_voice;

typedef enum { AMB_IDLE = 0, AMB_PLAYING = 1, AMB_DRAINING = 2 } amb_state;

struct fkgd_sound {
  fk_model* model;
  fk_model_info info;
  fk_model_session* session;
  fk_synth* synth;   /* one-shots: log-mel -> waveform (PGHI) */
  fk_stream* stream; /* ambience: frame by frame (RTPGHI) */
  float* defaults;   /* control_count */
  float* log_mel;    /* one-shot: max_frames * n_mels; ambience: AMB_CHUNK * n_mels */

  fkgd_voice voices[FKGD_MAX_VOICES];
  int n_voices;

  amb_state amb;
  float* amb_values; /* control_count */
  float* amb_buf;    /* produced, not yet mixed: [amb_pos, amb_len) */
  int64_t amb_len, amb_pos, amb_cap;
};

#define AMB_CHUNK 8 /* frames generated per step of the ambience */

static bool fail(char* err, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char* err, size_t cap, const char* fmt, ...) {
  if (err && cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* "what: <result string>: <fk_last_error>" */
static bool fail_fk(char* err, size_t cap, const char* what, fk_result r) {
  const char* detail = fk_last_error();
  if (detail && *detail)
    return fail(err, cap, "%s: %s (%s)", what, detail, fk_result_string(r));
  return fail(err, cap, "%s: %s", what, fk_result_string(r));
}

bool fkgd_model_api_available(void) { return FKGD_MODEL_API_PRESENT() ? true : false; }

fkgd_sound* fkgd_sound_create(void) { return (fkgd_sound*)calloc(1, sizeof(fkgd_sound)); }

void fkgd_sound_destroy(fkgd_sound* s) {
  if (!s) return;
  fkgd_sound_unload(s);
  free(s);
}

void fkgd_sound_stop_all(fkgd_sound* s) {
  if (!s) return;
  for (int i = 0; i < s->n_voices; ++i) free(s->voices[i].samples);
  s->n_voices = 0;
  s->amb = AMB_IDLE;
  s->amb_len = s->amb_pos = 0;
  if (s->stream) fk_stream_reset(s->stream);
}

void fkgd_sound_unload(fkgd_sound* s) {
  if (!s) return;
  fkgd_sound_stop_all(s);
  fk_stream_destroy(s->stream);
  fk_synth_destroy(s->synth);
  if (s->session) fk_model_session_destroy(s->session);
  if (s->model) fk_model_destroy(s->model);
  free(s->defaults);
  free(s->log_mel);
  free(s->amb_values);
  free(s->amb_buf);
  s->stream = NULL, s->synth = NULL, s->session = NULL, s->model = NULL;
  s->defaults = s->log_mel = s->amb_values = s->amb_buf = NULL;
  s->amb_cap = 0;
  memset(&s->info, 0, sizeof s->info);
}

/* Everything a model needs once loaded; on failure the model is unloaded again. */
static bool finish_load(fkgd_sound* s, fk_model* model, char* err, size_t cap) {
  fk_result r;
  s->model = model;
  if ((r = fk_model_get_info(model, &s->info)) != FK_RESULT_OK) {
    fail_fk(err, cap, "reading the model's info failed", r);
    goto fail;
  }
  const fk_model_info* in = &s->info;
  const int32_t n_mels = in->spectrogram.n_mels;
  const int32_t nc = in->control_count;
  if (n_mels < 1 || nc < 0 || in->spectrogram.hop < 1) {
    fail(err, cap, "the model reports impossible settings (n_mels %d, hop %d, %d controls)",
         (int)n_mels, (int)in->spectrogram.hop, (int)nc);
    goto fail;
  }
  if (in->mode == FK_MODEL_MODE_ONE_SHOT && in->max_frames < 1) {
    fail(err, cap, "the one-shot model reports max_frames %d", (int)in->max_frames);
    goto fail;
  }
  s->defaults = (float*)calloc((size_t)(nc > 0 ? nc : 1), sizeof(float));
  s->amb_values = (float*)calloc((size_t)(nc > 0 ? nc : 1), sizeof(float));
  int64_t frames = in->mode == FK_MODEL_MODE_ONE_SHOT ? in->max_frames : AMB_CHUNK;
  s->log_mel = (float*)malloc((size_t)(frames * n_mels) * sizeof(float));
  if (!s->defaults || !s->amb_values || !s->log_mel) {
    fail(err, cap, "out of memory");
    goto fail;
  }
  if (nc > 0 && (r = fk_model_default_controls(model, s->defaults, nc)) != FK_RESULT_OK) {
    fail_fk(err, cap, "reading the model's default controls failed", r);
    goto fail;
  }
  memcpy(s->amb_values, s->defaults, (size_t)(nc > 0 ? nc : 1) * sizeof(float));
  if ((r = fk_model_session_create(model, &s->session)) != FK_RESULT_OK) {
    fail_fk(err, cap, "creating a model session failed", r);
    goto fail;
  }
  if (in->mode == FK_MODEL_MODE_ONE_SHOT) {
    if ((r = fk_synth_create(&in->spectrogram, &s->synth)) != FK_RESULT_OK) {
      fail_fk(err, cap, "creating the synthesizer failed", r);
      goto fail;
    }
  } else {
    fk_stream_config sc = fk_stream_config_default();
    sc.spectrogram = in->spectrogram;
    sc.input = FK_SPEC_KIND_LOG_MEL;
    sc.method = FK_STREAM_METHOD_RTPGHI;
    if ((r = fk_stream_create(&sc, &s->stream)) != FK_RESULT_OK) {
      fail_fk(err, cap, "creating the streaming synthesizer failed", r);
      goto fail;
    }
  }
  return true;
fail:
  fkgd_sound_unload(s);
  return false;
}

bool fkgd_sound_load_file(fkgd_sound* s, const char* path, char* err, size_t cap) {
  if (!s || !path) return fail(err, cap, "no path");
  if (!fkgd_model_api_available())
    return fail(err, cap, "this libfoleykit (%s) has no model runtime (fk_model_load)",
                fk_version());
  fkgd_sound_unload(s);
  fk_model* m = NULL;
  fk_result r = fk_model_load(path, &m);
  if (r != FK_RESULT_OK || !m) {
    char what[600];
    snprintf(what, sizeof what, "cannot load the model '%s'", path);
    return fail_fk(err, cap, what, r != FK_RESULT_OK ? r : FK_RESULT_INTERNAL);
  }
  return finish_load(s, m, err, cap);
}

bool fkgd_sound_load_memory(fkgd_sound* s, const void* data, size_t size, char* err,
                            size_t cap) {
  if (!s || !data || !size) return fail(err, cap, "empty model data");
  if (!fkgd_model_api_available())
    return fail(err, cap, "this libfoleykit (%s) has no model runtime (fk_model_load_memory)",
                fk_version());
  fkgd_sound_unload(s);
  fk_model* m = NULL;
  fk_result r = fk_model_load_memory(data, size, &m);
  if (r != FK_RESULT_OK || !m)
    return fail_fk(err, cap, "cannot load the model", r != FK_RESULT_OK ? r : FK_RESULT_INTERNAL);
  return finish_load(s, m, err, cap);
}

const fk_model* fkgd_sound_model(const fkgd_sound* s) { return s ? s->model : NULL; }
const fk_model_info* fkgd_sound_info(const fkgd_sound* s) {
  return s && s->model ? &s->info : NULL;
}
float fkgd_sound_sample_rate(const fkgd_sound* s) {
  return s && s->model ? s->info.spectrogram.sample_rate : 0.0f;
}
const float* fkgd_sound_default_controls(const fkgd_sound* s) {
  return s && s->model ? s->defaults : NULL;
}
const float* fkgd_sound_ambience_controls(const fkgd_sound* s) {
  return s && s->model ? s->amb_values : NULL;
}

static bool check_values(const fkgd_sound* s, int32_t n_values, char* err, size_t cap) {
  if (n_values != s->info.control_count)
    return fail(err, cap, "%d control values given, the model has %d", (int)n_values,
                (int)s->info.control_count);
  return true;
}

bool fkgd_sound_render_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                                uint64_t seed, float** out, int64_t* len, char* err,
                                size_t cap) {
  *out = NULL;
  *len = 0;
  if (!s || !s->model) return fail(err, cap, "no model is loaded");
  if (s->info.mode != FK_MODEL_MODE_ONE_SHOT)
    return fail(err, cap, "the loaded model is an ambience (step) model; use start_ambience");
  if (!check_values(s, n_values, err, cap)) return false;
  int32_t frames = 0;
  fk_result r = fk_model_generate(s->session, values, n_values, seed, s->log_mel,
                                  s->info.max_frames, &frames);
  if (r != FK_RESULT_OK) return fail_fk(err, cap, "generating the one-shot failed", r);
  if (frames < 1) return true; /* the model marks nothing as sounding */
  if (frames > s->info.max_frames)
    return fail(err, cap, "the model wrote %d frames, more than its max %d", (int)frames,
                (int)s->info.max_frames);
  int64_t n = fk_synth_output_length(s->synth, frames);
  if (n <= 0) return true;
  float* buf = (float*)malloc((size_t)n * sizeof(float));
  if (!buf) return fail(err, cap, "out of memory");
  int64_t written = 0;
  r = fk_synth_render(s->synth, s->log_mel, s->info.spectrogram.n_mels, frames,
                      FK_SPEC_KIND_LOG_MEL, FK_PHASE_METHOD_PGHI, 0, seed, buf, n, &written);
  if (r != FK_RESULT_OK) {
    free(buf);
    return fail_fk(err, cap, "synthesising the one-shot failed", r);
  }
  *out = buf;
  *len = written;
  return true;
}

bool fkgd_sound_play_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                              uint64_t seed, float gain, char* err, size_t cap) {
  float* buf = NULL;
  int64_t len = 0;
  if (!fkgd_sound_render_one_shot(s, values, n_values, seed, &buf, &len, err, cap)) return false;
  if (len <= 0) {
    free(buf);
    return true;
  }
  if (s->n_voices == FKGD_MAX_VOICES) { /* drop the oldest */
    free(s->voices[0].samples);
    memmove(&s->voices[0], &s->voices[1], sizeof(fkgd_voice) * (FKGD_MAX_VOICES - 1));
    s->n_voices--;
  }
  fkgd_voice* v = &s->voices[s->n_voices++];
  v->samples = buf;
  v->len = len;
  v->pos = 0;
  v->gain = isfinite(gain) ? gain : 1.0f;
  return true;
}

bool fkgd_sound_start_ambience(fkgd_sound* s, const float* values, int32_t n_values,
                               uint64_t seed, char* err, size_t cap) {
  if (!s || !s->model) return fail(err, cap, "no model is loaded");
  if (s->info.mode != FK_MODEL_MODE_STEP)
    return fail(err, cap, "the loaded model is a one-shot model; use play_one_shot");
  if (!check_values(s, n_values, err, cap)) return false;
  fk_result r = fk_model_stream_reset(s->session, values, n_values, seed);
  if (r != FK_RESULT_OK) return fail_fk(err, cap, "starting the ambience failed", r);
  fk_stream_reset(s->stream);
  if (n_values > 0) memcpy(s->amb_values, values, (size_t)n_values * sizeof(float));
  s->amb_len = s->amb_pos = 0;
  s->amb = AMB_PLAYING;
  return true;
}

bool fkgd_sound_set_ambience_controls(fkgd_sound* s, const float* values, int32_t n_values,
                                      char* err, size_t cap) {
  if (!s || !s->model) return fail(err, cap, "no model is loaded");
  if (s->info.mode != FK_MODEL_MODE_STEP)
    return fail(err, cap, "the loaded model is a one-shot model, it has no ambience");
  if (!check_values(s, n_values, err, cap)) return false;
  if (s->amb == AMB_PLAYING) {
    fk_result r = fk_model_stream_set_controls(s->session, values, n_values);
    if (r != FK_RESULT_OK) return fail_fk(err, cap, "setting the ambience controls failed", r);
  }
  if (n_values > 0) memcpy(s->amb_values, values, (size_t)n_values * sizeof(float));
  return true;
}

static bool amb_reserve(fkgd_sound* s, int64_t extra) {
  if (s->amb_pos > 0) { /* compact */
    memmove(s->amb_buf, s->amb_buf + s->amb_pos, (size_t)(s->amb_len - s->amb_pos) * sizeof(float));
    s->amb_len -= s->amb_pos;
    s->amb_pos = 0;
  }
  if (s->amb_len + extra <= s->amb_cap) return true;
  int64_t ncap = s->amb_cap ? s->amb_cap : 4096;
  while (ncap < s->amb_len + extra) ncap *= 2;
  float* nb = (float*)realloc(s->amb_buf, (size_t)ncap * sizeof(float));
  if (!nb) return false;
  s->amb_buf = nb;
  s->amb_cap = ncap;
  return true;
}

void fkgd_sound_stop_ambience(fkgd_sound* s) {
  if (!s || s->amb != AMB_PLAYING) return;
  /* The streaming synthesizer's tail (at most n_fft + hop samples) fades the sound out. */
  const int32_t tail = s->info.spectrogram.n_fft + s->info.spectrogram.hop;
  int32_t written = 0;
  if (amb_reserve(s, tail) &&
      fk_stream_flush(s->stream, s->amb_buf + s->amb_len, tail, &written) == FK_RESULT_OK) {
    s->amb_len += written;
    s->amb = AMB_DRAINING;
  } else {
    fk_stream_reset(s->stream);
    s->amb_len = s->amb_pos = 0;
    s->amb = AMB_IDLE;
  }
}

bool fkgd_sound_ambience_playing(const fkgd_sound* s) { return s && s->amb == AMB_PLAYING; }

int fkgd_sound_active_voices(const fkgd_sound* s) { return s ? s->n_voices : 0; }

bool fkgd_sound_busy(const fkgd_sound* s) {
  return s && (s->n_voices > 0 || s->amb != AMB_IDLE);
}

/* Makes at least `need` ambience samples available (fewer only while draining). */
static bool amb_produce(fkgd_sound* s, int64_t need, char* err, size_t cap) {
  const int32_t hop = s->info.spectrogram.hop;
  while (s->amb == AMB_PLAYING && s->amb_len - s->amb_pos < need) {
    int64_t missing = need - (s->amb_len - s->amb_pos);
    int32_t k = (int32_t)((missing + hop - 1) / hop);
    if (k > AMB_CHUNK) k = AMB_CHUNK;
    if (k < 1) k = 1;
    if (!amb_reserve(s, (int64_t)k * hop)) return fail(err, cap, "out of memory");
    fk_result r = fk_model_stream_next(s->session, s->log_mel, k);
    if (r != FK_RESULT_OK) return fail_fk(err, cap, "the ambience model failed", r);
    int32_t written = 0;
    r = fk_stream_push(s->stream, s->log_mel, k, s->amb_buf + s->amb_len, k * hop, &written);
    if (r != FK_RESULT_OK) return fail_fk(err, cap, "the ambience synthesizer failed", r);
    s->amb_len += written;
  }
  return true;
}

bool fkgd_sound_mix(fkgd_sound* s, float* out, int32_t frames, char* err, size_t cap) {
  if (frames <= 0) return true;
  memset(out, 0, (size_t)frames * sizeof(float));
  if (!s || !s->model) return true;
  bool ok = true;

  if (s->amb != AMB_IDLE) {
    if (!amb_produce(s, frames, err, cap)) {
      ok = false;
      fk_stream_reset(s->stream);
      s->amb = AMB_IDLE;
      s->amb_len = s->amb_pos = 0;
    }
    int64_t avail = s->amb_len - s->amb_pos;
    int64_t n = avail < frames ? avail : frames;
    const float* src = s->amb_buf + s->amb_pos;
    for (int64_t i = 0; i < n; ++i) out[i] += src[i];
    s->amb_pos += n;
    if (s->amb == AMB_DRAINING && s->amb_pos >= s->amb_len) {
      s->amb = AMB_IDLE;
      s->amb_len = s->amb_pos = 0;
    }
  }

  int kept = 0;
  for (int v = 0; v < s->n_voices; ++v) {
    fkgd_voice* vo = &s->voices[v];
    int64_t n = vo->len - vo->pos;
    if (n > frames) n = frames;
    const float* src = vo->samples + vo->pos;
    const float g = vo->gain;
    for (int64_t i = 0; i < n; ++i) out[i] += g * src[i];
    vo->pos += n;
    if (vo->pos >= vo->len) {
      free(vo->samples);
    } else {
      s->voices[kept++] = *vo;
    }
  }
  s->n_voices = kept;
  return ok;
}

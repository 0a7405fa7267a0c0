/* fkgd_sound: see fkgd_sound.h. */
#include "fkgd_sound.h"

#include "fk_model_weak.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_ONE_SHOT = 0, SLOT_STEP = 1, N_SLOTS = 2 };

typedef struct fkgd_slot {
  fk_model* model; /* NULL: empty */
  fk_model_info info;
  float* defaults;   /* control_count (at least 1 float) */
  int32_t engine_id; /* the model's id in the engine */
  /* one-shot slot only: render_one_shot outside the engine */
  fk_model_session* session;
  fk_synth* synth;
  float* log_mel; /* max_frames * n_mels */
} fkgd_slot;

struct fkgd_sound {
  fkgd_slot slots[N_SLOTS];
  int current; /* slot index, -1 without a model */
  fk_engine* engine;
  int32_t rate;

  fk_voice_id amb_voice; /* 0: no ambience playing */
  float* amb_values;     /* the ambience model's control_count floats */

  fk_voice_id live[FKGD_MAX_LIVE]; /* asked for, not yet ended */
  int n_live;

  fk_engine_event events[FKGD_EVENT_QUEUE]; /* ring */
  int ev_head, ev_count;
};

#define STOP_ALL_FADE_MS 10.0f
#define SYNC_TIMEOUT_MS 5000
#define OFFLINE_BLOCK 1024

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

/* "what: <fk_last_error> (<result string>)" */
static bool fail_fk(char* err, size_t cap, const char* what, fk_result r) {
  const char* detail = fk_last_error();
  if (detail && *detail)
    return fail(err, cap, "%s: %s (%s)", what, detail, fk_result_string(r));
  return fail(err, cap, "%s: %s", what, fk_result_string(r));
}

bool fkgd_model_api_available(void) { return FKGD_MODEL_API_PRESENT() ? true : false; }

fkgd_sound* fkgd_sound_create(void) {
  fkgd_sound* s = (fkgd_sound*)calloc(1, sizeof(fkgd_sound));
  if (s) s->current = -1;
  return s;
}

void fkgd_sound_destroy(fkgd_sound* s) {
  if (!s) return;
  fkgd_sound_unload(s);
  free(s);
}

static void slot_free(fkgd_slot* sl) {
  fk_synth_destroy(sl->synth);
  if (sl->session) fk_model_session_destroy(sl->session);
  if (sl->model) fk_model_destroy(sl->model);
  free(sl->defaults);
  free(sl->log_mel);
  memset(sl, 0, sizeof *sl);
}

/* Forgets every voice and event (the engine that made them is gone). */
static void forget_voices(fkgd_sound* s) {
  s->amb_voice = 0;
  s->n_live = 0;
  s->ev_head = s->ev_count = 0;
}

void fkgd_sound_unload(fkgd_sound* s) {
  if (!s) return;
  if (s->engine) fk_engine_destroy(s->engine);
  s->engine = NULL;
  s->rate = 0;
  forget_voices(s);
  for (int i = 0; i < N_SLOTS; ++i) slot_free(&s->slots[i]);
  free(s->amb_values);
  s->amb_values = NULL;
  s->current = -1;
}

/* Reads a freshly loaded model into *sl (which owns it from here, even on failure). */
static bool slot_fill(fkgd_slot* sl, fk_model* model, char* err, size_t cap) {
  fk_result r;
  memset(sl, 0, sizeof *sl);
  sl->model = model;
  if ((r = fk_model_get_info(model, &sl->info)) != FK_RESULT_OK)
    return fail_fk(err, cap, "reading the model's info failed", r);
  const fk_model_info* in = &sl->info;
  const int32_t n_mels = in->spectrogram.n_mels;
  const int32_t nc = in->control_count;
  if (n_mels < 1 || nc < 0 || in->spectrogram.hop < 1)
    return fail(err, cap, "the model reports impossible settings (n_mels %d, hop %d, %d controls)",
                (int)n_mels, (int)in->spectrogram.hop, (int)nc);
  if (in->mode != FK_MODEL_MODE_ONE_SHOT && in->mode != FK_MODEL_MODE_STEP)
    return fail(err, cap, "the model has an unknown mode %d", (int)in->mode);
  if (in->mode == FK_MODEL_MODE_ONE_SHOT && in->max_frames < 1)
    return fail(err, cap, "the one-shot model reports max_frames %d", (int)in->max_frames);
  sl->defaults = (float*)calloc((size_t)(nc > 0 ? nc : 1), sizeof(float));
  if (!sl->defaults) return fail(err, cap, "out of memory");
  if (nc > 0 && (r = fk_model_default_controls(model, sl->defaults, nc)) != FK_RESULT_OK)
    return fail_fk(err, cap, "reading the model's default controls failed", r);
  if (in->mode == FK_MODEL_MODE_ONE_SHOT) {
    sl->log_mel = (float*)malloc((size_t)in->max_frames * (size_t)n_mels * sizeof(float));
    if (!sl->log_mel) return fail(err, cap, "out of memory");
    if ((r = fk_model_session_create(model, &sl->session)) != FK_RESULT_OK)
      return fail_fk(err, cap, "creating a model session failed", r);
    if ((r = fk_synth_create(&in->spectrogram, &sl->synth)) != FK_RESULT_OK)
      return fail_fk(err, cap, "creating the synthesizer failed", r);
  }
  return true;
}

/* A new engine at `rate` with the models of `slots` (ids assigned into them). */
static bool build_engine(fkgd_slot* slots, int32_t rate, fk_engine** out, char* err, size_t cap) {
  *out = NULL;
  fk_engine_config cfg = fk_engine_config_default();
  cfg.sample_rate = rate;
  cfg.channels = FKGD_CHANNELS;
  fk_engine* e = NULL;
  fk_result r = fk_engine_create(&cfg, &e);
  if (r != FK_RESULT_OK || !e) {
    char what[128];
    snprintf(what, sizeof what, "creating the engine at %d Hz failed", (int)rate);
    return fail_fk(err, cap, what, r != FK_RESULT_OK ? r : FK_RESULT_INTERNAL);
  }
  for (int i = 0; i < N_SLOTS; ++i) {
    if (!slots[i].model) continue;
    const int32_t mr = (int32_t)slots[i].info.spectrogram.sample_rate;
    r = fk_engine_add_model(e, slots[i].model, &slots[i].engine_id);
    if (r != FK_RESULT_OK) {
      char what[256];
      if (mr != rate)
        snprintf(what, sizeof what,
                 "the engine refused the %s model: its sample rate is %d Hz, the player's "
                 "engine runs at %d Hz (the rate of the other model loaded); one player plays "
                 "one sample rate: unload_model() first, or use another FoleyKitPlayer",
                 i == SLOT_ONE_SHOT ? "one-shot" : "ambience", (int)mr, (int)rate);
      else
        snprintf(what, sizeof what, "the engine refused the %s model",
                 i == SLOT_ONE_SHOT ? "one-shot" : "ambience");
      fk_engine_destroy(e);
      return fail_fk(err, cap, what, r);
    }
  }
  *out = e;
  return true;
}

static bool install(fkgd_sound* s, fk_model* model, char* err, size_t cap) {
  fkgd_slot fresh;
  if (!slot_fill(&fresh, model, err, cap)) {
    slot_free(&fresh);
    return false;
  }
  const int k = fresh.info.mode == FK_MODEL_MODE_ONE_SHOT ? SLOT_ONE_SHOT : SLOT_STEP;
  /* The candidate set: the new model in its slot, the other slot as it is. */
  fkgd_slot cand[N_SLOTS];
  memcpy(cand, s->slots, sizeof cand);
  cand[k] = fresh;
  /* The engine runs at the rate of the model already loaded in the other slot, if any (so a
   * model of another rate is the one refused), else at the new model's. */
  const int other = 1 - k;
  const int32_t rate = (int32_t)(cand[other].model ? cand[other].info.spectrogram.sample_rate
                                                   : fresh.info.spectrogram.sample_rate);
  fk_engine* e = NULL;
  if (!build_engine(cand, rate, &e, err, cap)) {
    slot_free(&fresh);
    return false;
  }
  float* amb = NULL;
  if (k == SLOT_STEP) {
    int32_t nc = fresh.info.control_count;
    amb = (float*)calloc((size_t)(nc > 0 ? nc : 1), sizeof(float));
    if (!amb) {
      fk_engine_destroy(e);
      slot_free(&fresh);
      return fail(err, cap, "out of memory");
    }
    if (nc > 0) memcpy(amb, fresh.defaults, (size_t)nc * sizeof(float));
  }
  /* Commit: the old engine (and every voice) goes. */
  if (s->engine) fk_engine_destroy(s->engine);
  forget_voices(s);
  slot_free(&s->slots[k]);
  memcpy(s->slots, cand, sizeof cand);
  s->engine = e;
  s->rate = rate;
  if (amb) {
    free(s->amb_values);
    s->amb_values = amb;
  }
  s->current = k;
  return true;
}

bool fkgd_sound_load_file(fkgd_sound* s, const char* path, char* err, size_t cap) {
  if (!s || !path) return fail(err, cap, "no path");
  if (!fkgd_model_api_available())
    return fail(err, cap, "this libfoleykit (%s) has no model runtime/engine (fk_model_load, fk_engine_create)",
                fk_version());
  fk_model* m = NULL;
  fk_result r = fk_model_load(path, &m);
  if (r != FK_RESULT_OK || !m) {
    char what[600];
    snprintf(what, sizeof what, "cannot load the model '%s'", path);
    return fail_fk(err, cap, what, r != FK_RESULT_OK ? r : FK_RESULT_INTERNAL);
  }
  return install(s, m, err, cap);
}

bool fkgd_sound_load_memory(fkgd_sound* s, const void* data, size_t size, char* err,
                            size_t cap) {
  if (!s || !data || !size) return fail(err, cap, "empty model data");
  if (!fkgd_model_api_available())
    return fail(err, cap, "this libfoleykit (%s) has no model runtime/engine (fk_model_load_memory, fk_engine_create)",
                fk_version());
  fk_model* m = NULL;
  fk_result r = fk_model_load_memory(data, size, &m);
  if (r != FK_RESULT_OK || !m)
    return fail_fk(err, cap, "cannot load the model", r != FK_RESULT_OK ? r : FK_RESULT_INTERNAL);
  return install(s, m, err, cap);
}

static const fkgd_slot* cur(const fkgd_sound* s) {
  return s && s->current >= 0 && s->slots[s->current].model ? &s->slots[s->current] : NULL;
}

bool fkgd_sound_has_mode(const fkgd_sound* s, fk_model_mode mode) {
  if (!s) return false;
  int k = mode == FK_MODEL_MODE_ONE_SHOT ? SLOT_ONE_SHOT : SLOT_STEP;
  return s->slots[k].model != NULL;
}

bool fkgd_sound_select(fkgd_sound* s, fk_model_mode mode) {
  if (!fkgd_sound_has_mode(s, mode)) return false;
  s->current = mode == FK_MODEL_MODE_ONE_SHOT ? SLOT_ONE_SHOT : SLOT_STEP;
  return true;
}

int fkgd_sound_model_count(const fkgd_sound* s) {
  return s ? (s->slots[0].model != NULL) + (s->slots[1].model != NULL) : 0;
}

const fk_model* fkgd_sound_model(const fkgd_sound* s) {
  const fkgd_slot* c = cur(s);
  return c ? c->model : NULL;
}
const fk_model_info* fkgd_sound_info(const fkgd_sound* s) {
  const fkgd_slot* c = cur(s);
  return c ? &c->info : NULL;
}
float fkgd_sound_sample_rate(const fkgd_sound* s) {
  return s && s->engine ? (float)s->rate : 0.0f;
}
const float* fkgd_sound_default_controls(const fkgd_sound* s) {
  const fkgd_slot* c = cur(s);
  return c ? c->defaults : NULL;
}
const float* fkgd_sound_ambience_controls(const fkgd_sound* s) {
  return s && s->slots[SLOT_STEP].model ? s->amb_values : NULL;
}

static bool check_values(const fkgd_slot* sl, int32_t n_values, char* err, size_t cap) {
  if (n_values != sl->info.control_count)
    return fail(err, cap, "%d control values given, the model has %d", (int)n_values,
                (int)sl->info.control_count);
  return true;
}

bool fkgd_sound_render_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                                uint64_t seed, float** out, int64_t* len, char* err,
                                size_t cap) {
  *out = NULL;
  *len = 0;
  if (!s || !fkgd_sound_model_count(s)) return fail(err, cap, "no model is loaded");
  fkgd_slot* sl = &s->slots[SLOT_ONE_SHOT];
  if (!sl->model)
    return fail(err, cap, "no one-shot model is loaded (the loaded model is an ambience (step) model; use start_ambience)");
  if (!check_values(sl, n_values, err, cap)) return false;
  int32_t frames = 0;
  fk_result r = fk_model_generate(sl->session, values, n_values, seed, sl->log_mel,
                                  sl->info.max_frames, &frames);
  if (r != FK_RESULT_OK) return fail_fk(err, cap, "generating the one-shot failed", r);
  if (frames < 1) return true; /* the model marks nothing as sounding */
  if (frames > sl->info.max_frames)
    return fail(err, cap, "the model wrote %d frames, more than its max %d", (int)frames,
                (int)sl->info.max_frames);
  int64_t n = fk_synth_output_length(sl->synth, frames);
  if (n <= 0) return true;
  float* buf = (float*)malloc((size_t)n * sizeof(float));
  if (!buf) return fail(err, cap, "out of memory");
  int64_t written = 0;
  r = fk_synth_render(sl->synth, sl->log_mel, sl->info.spectrogram.n_mels, frames,
                      FK_SPEC_KIND_LOG_MEL, FK_PHASE_METHOD_PGHI, 0, seed, buf, n, &written);
  if (r != FK_RESULT_OK) {
    free(buf);
    return fail_fk(err, cap, "synthesising the one-shot failed", r);
  }
  *out = buf;
  *len = written;
  return true;
}

static bool add_live(fkgd_sound* s, fk_voice_id v) {
  if (s->n_live >= FKGD_MAX_LIVE) return false;
  s->live[s->n_live++] = v;
  return true;
}

static bool drop_live(fkgd_sound* s, fk_voice_id v) {
  for (int i = 0; i < s->n_live; ++i) {
    if (s->live[i] == v) {
      s->live[i] = s->live[--s->n_live];
      return true;
    }
  }
  return false;
}

static bool is_live(const fkgd_sound* s, fk_voice_id v) {
  for (int i = 0; i < s->n_live; ++i)
    if (s->live[i] == v) return true;
  return false;
}

static float clamp_gain(float g) { return isfinite(g) ? (g < 0 ? 0 : g > 16.0f ? 16.0f : g) : 1.0f; }
static float clamp_pan(float p) { return isfinite(p) ? (p < -1 ? -1 : p > 1 ? 1 : p) : 0.0f; }

bool fkgd_sound_play_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                              uint64_t seed, float gain, float pan, fk_voice_id* voice,
                              char* err, size_t cap) {
  if (voice) *voice = 0;
  if (!s || !s->engine) return fail(err, cap, "no model is loaded");
  const fkgd_slot* sl = &s->slots[SLOT_ONE_SHOT];
  if (!sl->model)
    return fail(err, cap, "no one-shot model is loaded (the loaded model is an ambience model; use start_ambience)");
  if (!check_values(sl, n_values, err, cap)) return false;
  if (s->n_live >= FKGD_MAX_LIVE)
    return fail(err, cap, "%d voices are already waiting or playing", FKGD_MAX_LIVE);
  fk_voice_id v = 0;
  fk_result r = fk_engine_trigger(s->engine, sl->engine_id, values, n_values, seed,
                                  clamp_gain(gain), clamp_pan(pan), FK_ENGINE_QUALITY_AUTO, &v);
  if (r != FK_RESULT_OK) return fail_fk(err, cap, "the engine refused the one-shot", r);
  add_live(s, v);
  if (voice) *voice = v;
  return true;
}

bool fkgd_sound_start_ambience(fkgd_sound* s, const float* values, int32_t n_values,
                               uint64_t seed, char* err, size_t cap) {
  if (!s || !s->engine) return fail(err, cap, "no model is loaded");
  const fkgd_slot* sl = &s->slots[SLOT_STEP];
  if (!sl->model)
    return fail(err, cap, "no ambience model is loaded (the loaded model is a one-shot model; use play_one_shot)");
  if (!check_values(sl, n_values, err, cap)) return false;
  if (s->n_live >= FKGD_MAX_LIVE)
    return fail(err, cap, "%d voices are already waiting or playing", FKGD_MAX_LIVE);
  fk_voice_id v = 0;
  fk_result r = fk_engine_start(s->engine, sl->engine_id, values, n_values, seed, 1.0f, 0.0f,
                                FK_ENGINE_QUALITY_AUTO, &v);
  if (r != FK_RESULT_OK) return fail_fk(err, cap, "the engine refused the ambience", r);
  if (s->amb_voice) fk_engine_stop(s->engine, s->amb_voice, 50.0f); /* crossfade */
  add_live(s, v);
  s->amb_voice = v;
  if (n_values > 0) memcpy(s->amb_values, values, (size_t)n_values * sizeof(float));
  return true;
}

bool fkgd_sound_set_ambience_controls(fkgd_sound* s, const float* values, int32_t n_values,
                                      char* err, size_t cap) {
  if (!s || !s->engine) return fail(err, cap, "no model is loaded");
  const fkgd_slot* sl = &s->slots[SLOT_STEP];
  if (!sl->model)
    return fail(err, cap, "no ambience model is loaded (the loaded model is a one-shot model, it has no ambience)");
  if (!check_values(sl, n_values, err, cap)) return false;
  if (s->amb_voice) {
    fk_result r = fk_engine_set_controls(s->engine, s->amb_voice, values, n_values);
    if (r != FK_RESULT_OK) return fail_fk(err, cap, "setting the ambience controls failed", r);
  }
  if (n_values > 0) memcpy(s->amb_values, values, (size_t)n_values * sizeof(float));
  return true;
}

static float fade_of(float ms) {
  if (!isfinite(ms) || ms < 1.0f) return 1.0f;
  return ms > 60000.0f ? 60000.0f : ms;
}

void fkgd_sound_stop_ambience(fkgd_sound* s, float fade_ms) {
  if (!s || !s->engine || !s->amb_voice) return;
  fk_engine_stop(s->engine, s->amb_voice, fade_of(fade_ms));
  s->amb_voice = 0;
}

bool fkgd_sound_ambience_playing(const fkgd_sound* s) { return s && s->amb_voice != 0; }
fk_voice_id fkgd_sound_ambience_voice(const fkgd_sound* s) { return s ? s->amb_voice : 0; }

bool fkgd_sound_stop_voice(fkgd_sound* s, fk_voice_id voice, float fade_ms, char* err,
                           size_t cap) {
  if (!s || !s->engine) return fail(err, cap, "no model is loaded");
  if (!is_live(s, voice))
    return fail(err, cap, "voice %llu is not playing on this player", (unsigned long long)voice);
  fk_result r = fk_engine_stop(s->engine, voice, fade_of(fade_ms));
  if (r != FK_RESULT_OK) return fail_fk(err, cap, "stopping the voice failed", r);
  if (voice == s->amb_voice) s->amb_voice = 0;
  return true;
}

void fkgd_sound_stop_all(fkgd_sound* s) {
  if (!s || !s->engine) return;
  for (int i = 0; i < s->n_live; ++i) fk_engine_stop(s->engine, s->live[i], STOP_ALL_FADE_MS);
  s->amb_voice = 0;
}

int fkgd_sound_active_voices(const fkgd_sound* s) { return s ? s->n_live : 0; }

bool fkgd_sound_busy(const fkgd_sound* s) { return s && s->engine && s->n_live > 0; }

void fkgd_sound_pump(fkgd_sound* s) {
  if (!s || !s->engine) return;
  fk_engine_event ev;
  while (fk_engine_poll_event(s->engine, &ev)) {
    if (ev.type == FK_ENGINE_EVENT_VOICE_ENDED) {
      drop_live(s, ev.voice);
      if (ev.voice == s->amb_voice) s->amb_voice = 0;
    }
    if (s->ev_count == FKGD_EVENT_QUEUE) { /* nobody takes them: drop the oldest */
      s->ev_head = (s->ev_head + 1) % FKGD_EVENT_QUEUE;
      s->ev_count--;
    }
    s->events[(s->ev_head + s->ev_count) % FKGD_EVENT_QUEUE] = ev;
    s->ev_count++;
  }
}

bool fkgd_sound_take_event(fkgd_sound* s, fk_engine_event* out) {
  if (!s || s->ev_count == 0) return false;
  *out = s->events[s->ev_head];
  s->ev_head = (s->ev_head + 1) % FKGD_EVENT_QUEUE;
  s->ev_count--;
  return true;
}

bool fkgd_sound_mix(fkgd_sound* s, float* out, int32_t frames, char* err, size_t cap) {
  if (frames <= 0) return true;
  if (!s || !s->engine) {
    memset(out, 0, (size_t)frames * FKGD_CHANNELS * sizeof(float));
    return true;
  }
  fk_result r = fk_engine_render(s->engine, out, frames);
  if (r != FK_RESULT_OK) {
    memset(out, 0, (size_t)frames * FKGD_CHANNELS * sizeof(float));
    return fail(err, cap, "fk_engine_render failed: %s", fk_result_string(r));
  }
  return true;
}

bool fkgd_sound_render_offline(fkgd_sound* s, float* out, int32_t frames, char* err, size_t cap) {
  if (frames <= 0) return true;
  if (!s || !s->engine) return fail(err, cap, "no model is loaded");
  for (int32_t done = 0; done < frames;) {
    int32_t n = frames - done < OFFLINE_BLOCK ? frames - done : OFFLINE_BLOCK;
    if (!fk_engine_sync(s->engine, SYNC_TIMEOUT_MS))
      return fail(err, cap, "the engine's workers did not catch up within %d ms", SYNC_TIMEOUT_MS);
    fk_result r = fk_engine_render(s->engine, out + (size_t)done * FKGD_CHANNELS, n);
    if (r != FK_RESULT_OK) return fail(err, cap, "fk_engine_render failed: %s", fk_result_string(r));
    done += n;
    fkgd_sound_pump(s);
  }
  return true;
}

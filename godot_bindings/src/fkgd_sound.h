/*
 * fkgd_sound: what one FoleyKitPlayer plays, in plain C over FoleyKit's C ABI (no Godot).
 *
 * One fk_engine per player. It holds up to two models at once: a one-shot model and an
 * ambience (step) model (loading a model of a kind replaces the one of that kind). Voices are
 * triggered / started through the engine (inference and phase reconstruction run on the
 * engine's worker thread); fkgd_sound_mix pulls stereo blocks from fk_engine_render.
 *
 * "The current model" (fkgd_sound_model / info / default_controls) is the one loaded last,
 * or the one fkgd_sound_select picked: control parsing and get_model_info use it.
 *
 * Threading: everything here runs on the thread that owns the node (Godot's main thread),
 * which is also the thread that renders (fkgd_sound_mix / fkgd_sound_render_offline).
 *
 * Errors: functions returning bool write a one-line message into err (cap bytes) on failure.
 */
#ifndef FOLEYKIT_GODOT_FKGD_SOUND_H
#define FOLEYKIT_GODOT_FKGD_SOUND_H

#include <foleykit/foleykit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FKGD_MAX_LIVE 1024  /* voices asked for and not yet ended, per player */
#define FKGD_EVENT_QUEUE 1024 /* engine events kept until the node takes them */
#define FKGD_CHANNELS 2

typedef struct fkgd_sound fkgd_sound;

/* Whether the linked libfoleykit has the model runtime (fk_model_*) and the engine. */
bool fkgd_model_api_available(void);

fkgd_sound* fkgd_sound_create(void);
void fkgd_sound_destroy(fkgd_sound* s);

/* Loads a .fkm into the slot of its kind (one-shot or ambience), replacing the model of that
 * kind, stopping every voice and rebuilding the engine at the models' sample rate. A model
 * whose sample rate differs from the other loaded model's is refused (the engine plays one
 * rate); on any failure what was loaded before stays loaded. */
bool fkgd_sound_load_file(fkgd_sound* s, const char* path, char* err, size_t cap);
bool fkgd_sound_load_memory(fkgd_sound* s, const void* data, size_t size, char* err, size_t cap);
/* Unloads every model and destroys the engine. */
void fkgd_sound_unload(fkgd_sound* s);

/* Makes the model of `mode` current; false when none of that kind is loaded. */
bool fkgd_sound_select(fkgd_sound* s, fk_model_mode mode);
bool fkgd_sound_has_mode(const fkgd_sound* s, fk_model_mode mode);

/* The current model; NULL when no model is loaded. */
const fk_model* fkgd_sound_model(const fkgd_sound* s);
const fk_model_info* fkgd_sound_info(const fkgd_sound* s);
float fkgd_sound_sample_rate(const fkgd_sound* s); /* the engine's rate; 0 without a model */
int fkgd_sound_model_count(const fkgd_sound* s);

/* The current model's defaults, control_count floats (NULL without a model). */
const float* fkgd_sound_default_controls(const fkgd_sound* s);
/* The ambience's current control values (control_count floats of the ambience model). */
const float* fkgd_sound_ambience_controls(const fkgd_sound* s);

/* One-shot model: renders a clip for (values, seed) synchronously, outside the engine (mono,
 * PGHI as the engine's MEDIUM tier); *out is malloc'd (free() it), *len may be 0. */
bool fkgd_sound_render_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                                uint64_t seed, float** out, int64_t* len, char* err,
                                size_t cap);
/* fk_engine_trigger on the one-shot model; *voice gets the id. gain linear, pan -1..1. */
bool fkgd_sound_play_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                              uint64_t seed, float gain, float pan, fk_voice_id* voice,
                              char* err, size_t cap);

/* The ambience model: (re)starts the ambience (a running one fades out), changes its
 * controls, fades it out over fade_ms. */
bool fkgd_sound_start_ambience(fkgd_sound* s, const float* values, int32_t n_values,
                               uint64_t seed, char* err, size_t cap);
bool fkgd_sound_set_ambience_controls(fkgd_sound* s, const float* values, int32_t n_values,
                                      char* err, size_t cap);
void fkgd_sound_stop_ambience(fkgd_sound* s, float fade_ms);
bool fkgd_sound_ambience_playing(const fkgd_sound* s); /* started and not stopped/ended */
fk_voice_id fkgd_sound_ambience_voice(const fkgd_sound* s); /* 0 when none */

/* Fades one voice out (any kind); false for a voice this player does not have live. */
bool fkgd_sound_stop_voice(fkgd_sound* s, fk_voice_id voice, float fade_ms, char* err,
                           size_t cap);
/* Fades every live voice out over 10 ms. */
void fkgd_sound_stop_all(fkgd_sound* s);
/* Voices asked for and not yet ended (one-shots and ambience, fading ones included). */
int fkgd_sound_active_voices(const fkgd_sound* s);
/* Anything left to render? (fkgd_sound_pump first, for an up-to-date answer.) */
bool fkgd_sound_busy(const fkgd_sound* s);

/* Drains the engine's events: keeps the live-voice book and queues them for
 * fkgd_sound_take_event. */
void fkgd_sound_pump(fkgd_sound* s);
/* The oldest queued event; false when none. */
bool fkgd_sound_take_event(fkgd_sound* s, fk_engine_event* out);

/* Writes the next `frames` stereo frames (frames * 2 floats, interleaved) of the engine's mix
 * (silence without an engine). */
bool fkgd_sound_mix(fkgd_sound* s, float* out, int32_t frames, char* err, size_t cap);
/* Deterministic rendering for tests and offline use: fk_engine_sync before every block, then
 * fk_engine_render. */
bool fkgd_sound_render_offline(fkgd_sound* s, float* out, int32_t frames, char* err, size_t cap);

#endif

/*
 * fkgd_sound: what one FoleyKitPlayer plays, in plain C over FoleyKit's C ABI (no Godot).
 *
 * It owns a model, its session and synthesizers, the one-shot voices in flight and the
 * ambience stream, and mixes them into mono blocks on request. This is the part the engine
 * API (fk_engine_create / trigger / render(out, frames)) replaces: the node then keeps
 * pulling blocks from fk_engine_render instead of fkgd_sound_mix, and triggering goes
 * through the engine (off the main thread) instead of rendering here.
 *
 * Threading: everything runs on the thread that owns the node (Godot's main thread). No
 * function here is real-time safe: one-shots are rendered in fkgd_sound_play_one_shot.
 *
 * Errors: functions returning bool write a one-line message into err (cap bytes) on failure.
 */
#ifndef FOLEYKIT_GODOT_FKGD_SOUND_H
#define FOLEYKIT_GODOT_FKGD_SOUND_H

#include <foleykit/foleykit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FKGD_MAX_VOICES 64

typedef struct fkgd_sound fkgd_sound;

/* Whether the linked libfoleykit has the model runtime (fk_model_*). */
bool fkgd_model_api_available(void);

fkgd_sound* fkgd_sound_create(void);
void fkgd_sound_destroy(fkgd_sound* s);

/* Loads a .fkm (replacing the current model and stopping everything). */
bool fkgd_sound_load_file(fkgd_sound* s, const char* path, char* err, size_t cap);
bool fkgd_sound_load_memory(fkgd_sound* s, const void* data, size_t size, char* err, size_t cap);
void fkgd_sound_unload(fkgd_sound* s);

/* NULL when no model is loaded. */
const fk_model* fkgd_sound_model(const fkgd_sound* s);
const fk_model_info* fkgd_sound_info(const fkgd_sound* s);
float fkgd_sound_sample_rate(const fkgd_sound* s); /* 0 without a model */

/* The model's defaults, control_count floats (NULL without a model). */
const float* fkgd_sound_default_controls(const fkgd_sound* s);
/* The ambience's current control values (control_count floats). */
const float* fkgd_sound_ambience_controls(const fkgd_sound* s);

/* One-shot models: renders a clip for (values, seed); *out is malloc'd (free() it), *len may
 * be 0 for a clip the model marks silent. */
bool fkgd_sound_render_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                                uint64_t seed, float** out, int64_t* len, char* err,
                                size_t cap);
/* Renders and starts a voice at `gain` (linear). The oldest voice is dropped beyond
 * FKGD_MAX_VOICES. */
bool fkgd_sound_play_one_shot(fkgd_sound* s, const float* values, int32_t n_values,
                              uint64_t seed, float gain, char* err, size_t cap);

/* Step models: (re)starts the ambience, changes its controls, stops it (its tail fades). */
bool fkgd_sound_start_ambience(fkgd_sound* s, const float* values, int32_t n_values,
                               uint64_t seed, char* err, size_t cap);
bool fkgd_sound_set_ambience_controls(fkgd_sound* s, const float* values, int32_t n_values,
                                      char* err, size_t cap);
void fkgd_sound_stop_ambience(fkgd_sound* s);
bool fkgd_sound_ambience_playing(const fkgd_sound* s); /* started and not stopped */

void fkgd_sound_stop_all(fkgd_sound* s);
int fkgd_sound_active_voices(const fkgd_sound* s);
/* Anything left to play (voices, ambience, an ambience tail)? */
bool fkgd_sound_busy(const fkgd_sound* s);

/* Writes the next `frames` mono samples of the mix (silence where nothing plays). On an
 * error the ambience is stopped, the rest still mixes, and false is returned with err. */
bool fkgd_sound_mix(fkgd_sound* s, float* out, int32_t frames, char* err, size_t cap);

#endif

/*
 * FoleyKit — the C ABI of the native runtime.
 *
 * One header, plain C (C99), for game engines and any other host. Conventions:
 *  - Everything is prefixed fk_ (functions, types) or FK_ (constants).
 *  - Objects are opaque handles: fk_<object>_create(config, &out) / fk_<object>_destroy(h);
 *    destroy accepts NULL.
 *  - Config structs start from fk_<object>_config_default(), carry a `version` field that
 *    create checks (FK_RESULT_VERSION_MISMATCH), and may grow at the end.
 *  - Every function returns fk_result (0 success, negative error) unless it says otherwise;
 *    outputs come last. fk_result_string() explains a code; fk_last_error() gives the
 *    detailed message of the calling thread's last failure. No C++ exception crosses here.
 *  - Audio is float32 mono. Spectrograms are passed frame by frame: element (frame t, row r)
 *    at spec[t * rows + r], so a model's output frames can be handed over as they come.
 *  - Each function says which thread may call it and whether it is safe in the audio
 *    callback ("real-time safe": no allocation, no locks, no unbounded work).
 */
#ifndef FOLEYKIT_H
#define FOLEYKIT_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  define FK_CALL __cdecl
#  if defined(FK_BUILDING_LIBRARY)
#    define FK_API __declspec(dllexport)
#  else
#    define FK_API __declspec(dllimport)
#  endif
#else
#  define FK_CALL
#  if defined(FK_BUILDING_LIBRARY)
#    define FK_API __attribute__((visibility("default")))
#  else
#    define FK_API
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define FK_VERSION_MAJOR 0
#define FK_VERSION_MINOR 1
#define FK_VERSION_PATCH 0
/* Version of the config structs in this header; create functions reject other values. */
#define FK_CONFIG_VERSION 1

typedef int32_t fk_bool32;

/* Result codes: 0 is success, errors are negative. Pinned to 32 bits. */
typedef enum fk_result {
  FK_RESULT_OK = 0,
  FK_RESULT_INVALID_ARGUMENT = -1,   /* a null pointer, an out-of-range parameter or value */
  FK_RESULT_NON_FINITE = -2,         /* NaN or Inf in the input */
  FK_RESULT_NEGATIVE_MAGNITUDE = -3, /* a magnitude below zero */
  FK_RESULT_SHAPE_MISMATCH = -4,     /* rows do not match n_fft or n_mels */
  FK_RESULT_EMPTY = -5,              /* zero frames */
  FK_RESULT_BUFFER_TOO_SMALL = -6,   /* output capacity too small; nothing was consumed */
  FK_RESULT_OUT_OF_MEMORY = -7,
  FK_RESULT_INTERNAL = -8,
  FK_RESULT_VERSION_MISMATCH = -9,   /* config.version is not FK_CONFIG_VERSION */
  FK_RESULT_MODEL_INVALID = -10,     /* a model file that is truncated, corrupt or inconsistent */
  FK_RESULT_IO = -11,                /* a file that cannot be opened or read */
  FK_RESULT_UNSUPPORTED = -12,       /* valid, but not something this call or build can do */
  FK_RESULT_FORCE_32BIT = 0x7fffffff
} fk_result;

/* What a spectrogram holds. */
typedef enum fk_spec_kind {
  FK_SPEC_KIND_LINEAR = 0,  /* linear STFT magnitude, n_fft/2+1 rows */
  FK_SPEC_KIND_MEL = 1,     /* mel magnitude (Slaney filterbank), n_mels rows */
  FK_SPEC_KIND_LOG_MEL = 2, /* natural log of mel magnitude, n_mels rows (what models emit) */
  FK_SPEC_KIND_FORCE_32BIT = 0x7fffffff
} fk_spec_kind;

/* How phase is reconstructed for one-call synthesis. */
typedef enum fk_phase_method {
  FK_PHASE_METHOD_PGHI = 0,             /* phase-gradient heap integration, non-iterative */
  FK_PHASE_METHOD_GRIFFIN_LIM = 1,      /* fast Griffin-Lim from random phase, n_iter rounds */
  FK_PHASE_METHOD_PGHI_GRIFFIN_LIM = 2, /* PGHI, then n_iter rounds of fast Griffin-Lim */
  FK_PHASE_METHOD_RANDOM = 3,           /* seeded random phase (noise only) */
  FK_PHASE_METHOD_FORCE_32BIT = 0x7fffffff
} fk_phase_method;

/* Frame-by-frame phase for the streaming synthesizer. */
typedef enum fk_stream_method {
  FK_STREAM_METHOD_RTPGHI = 0, /* real-time PGHI, one frame of look-ahead */
  FK_STREAM_METHOD_RANDOM = 1, /* seeded random phase, no look-ahead (noise beds) */
  FK_STREAM_METHOD_FORCE_32BIT = 0x7fffffff
} fk_stream_method;

/* ---- library ------------------------------------------------------------------------ */

/* "major.minor.patch". Static string; any thread; real-time safe. */
FK_API const char* FK_CALL fk_version(void);
/* A static English description of a result code. Any thread; real-time safe. */
FK_API const char* FK_CALL fk_result_string(fk_result result);
/* The detailed message of the calling thread's most recent failed call ("" if none). The
 * pointer stays valid until the next FoleyKit call on this thread. Not real-time safe. */
FK_API const char* FK_CALL fk_last_error(void);

/* ---- spectrogram settings ----------------------------------------------------------- */

/* The feature settings every model carries. Defaults: 48 kHz, n_fft 1024, hop 256,
 * 80 Slaney mels from 0 Hz to sr/2, log floor 1e-5. */
typedef struct fk_synth_config {
  int32_t version;     /* FK_CONFIG_VERSION */
  float sample_rate;   /* Hz, 1000..384000 */
  int32_t n_fft;       /* even, 16..65536 */
  int32_t hop;         /* 1..n_fft/2 */
  int32_t n_mels;      /* 1..1024 (used for mel inputs) */
  float fmin;          /* Hz */
  float fmax;          /* Hz; 0 means sample_rate/2 */
  float log_floor;     /* the floor the log-mel feature was computed with */
} fk_synth_config;

/* Any thread; real-time safe. */
FK_API fk_synth_config FK_CALL fk_synth_config_default(void);

/* ---- one-call synthesis -------------------------------------------------------------- */

/* Immutable after creation (plans, window, mel inverse); shareable between threads. */
typedef struct fk_synth fk_synth;

/* Creates a synthesizer. Allocates: call off the audio thread. *out is NULL on failure. */
FK_API fk_result FK_CALL fk_synth_create(const fk_synth_config* config, fk_synth** out);
/* Destroys; NULL is fine. Not while another thread uses it. Not real-time safe. */
FK_API void FK_CALL fk_synth_destroy(fk_synth* synth);

/* Samples that fk_synth_render returns for n_frames frames: hop * (n_frames - 1).
 * Any thread; real-time safe. Returns 0 for n_frames < 1 or a NULL synth. */
FK_API int64_t FK_CALL fk_synth_output_length(const fk_synth* synth, int32_t n_frames);

/* Renders a spectrogram to a waveform in one call.
 *  spec: n_frames frames of `rows` values (frame-major, see above); the caller keeps it.
 *  rows: n_fft/2+1 for FK_SPEC_KIND_LINEAR, n_mels otherwise.
 *  n_iter: Griffin-Lim rounds (ignored by PGHI and RANDOM); seed: random phases.
 *  out: caller's buffer of `capacity` samples, at least fk_synth_output_length(n_frames).
 *  *out_len: samples written.
 * Input is fully checked first; on error nothing is written. Same input and seed give the
 * same output, bit for bit. Allocates scratch: call from a worker thread, not the audio
 * callback. Thread-safe on a shared synth. */
FK_API fk_result FK_CALL fk_synth_render(const fk_synth* synth, const float* spec, int32_t rows,
                                         int32_t n_frames, fk_spec_kind kind,
                                         fk_phase_method method, int32_t n_iter, uint64_t seed,
                                         float* out, int64_t capacity, int64_t* out_len);

/* ---- streaming synthesis ------------------------------------------------------------- */

typedef struct fk_stream_config {
  int32_t version;          /* FK_CONFIG_VERSION */
  fk_synth_config spectrogram;
  fk_spec_kind input;       /* what each pushed frame holds */
  fk_stream_method method;
  uint64_t seed;
} fk_stream_config;

/* Defaults: fk_synth_config_default(), log-mel input, RTPGHI, seed 0. Real-time safe. */
FK_API fk_stream_config FK_CALL fk_stream_config_default(void);

/* Per-sound streaming state. Owned by one thread at a time (typically the audio thread). */
typedef struct fk_stream fk_stream;

/* Allocates every buffer the stream will use: call off the audio thread. */
FK_API fk_result FK_CALL fk_stream_create(const fk_stream_config* config, fk_stream** out);
/* NULL is fine. Not real-time safe. */
FK_API void FK_CALL fk_stream_destroy(fk_stream* stream);

/* Rows each pushed frame must have (n_fft/2+1 or n_mels). Real-time safe. */
FK_API int32_t FK_CALL fk_stream_frame_rows(const fk_stream* stream);
/* Latency from pushing a frame to hearing its centre, in samples. Real-time safe. */
FK_API int32_t FK_CALL fk_stream_latency_samples(const fk_stream* stream);

/* Pushes n_frames frames (frame-major, fk_stream_frame_rows() values each) and writes the
 * samples they complete: at most n_frames * hop. capacity must be at least that.
 * All frames are checked before any is used: on error the stream is unchanged.
 * Real-time safe: no allocation, no locks. */
FK_API fk_result FK_CALL fk_stream_push(fk_stream* stream, const float* frames, int32_t n_frames,
                                        float* out, int32_t capacity, int32_t* out_written);
/* Finishes the sound: writes the remaining tail (at most n_fft + hop samples; capacity must
 * be at least that) and resets the stream for the next sound. Over a whole sound of F frames
 * the pushes and the flush return hop*(F-1) + n_fft/2 samples: the full overlap-add support,
 * whose last n_fft/2 samples fade out. Real-time safe. */
FK_API fk_result FK_CALL fk_stream_flush(fk_stream* stream, float* out, int32_t capacity,
                                         int32_t* out_written);
/* Drops all state (no output). Real-time safe. */
FK_API void FK_CALL fk_stream_reset(fk_stream* stream);


/* ---- models ---------------------------------------------------------------------------
 * A model is the native file (.fkm) that `foleykit export` writes next to model.onnx. It is
 * immutable once loaded and may be shared by any number of threads and sessions; destroy it
 * only after every session made from it. A session holds every buffer one inference needs,
 * so generating allocates nothing; it belongs to one thread at a time.
 *
 * Controls are passed as one float per control in schema order: a continuous control's
 * value in [low, high], or a categorical control's choice index. */

typedef struct fk_model fk_model;
typedef struct fk_model_session fk_model_session;

typedef enum fk_model_family {
  FK_MODEL_FAMILY_VAE = 0,
  FK_MODEL_FAMILY_GAN = 1,
  FK_MODEL_FAMILY_TRANSFORMER = 2,
  FK_MODEL_FAMILY_FORCE_32BIT = 0x7fffffff
} fk_model_family;

typedef enum fk_model_mode {
  FK_MODEL_MODE_ONE_SHOT = 0, /* a whole clip per call (effects) */
  FK_MODEL_MODE_STEP = 1,     /* one frame per call, forever (ambiences) */
  FK_MODEL_MODE_FORCE_32BIT = 0x7fffffff
} fk_model_mode;

typedef struct fk_model_info {
  fk_model_family family;
  fk_model_mode mode;
  fk_synth_config spectrogram; /* the model's feature settings (fmax resolved) */
  int32_t max_frames;          /* one-shot: frames per clip (the most generate writes) */
  int32_t window_frames;       /* step: frames of context */
  int32_t control_count;       /* controls in the schema */
  int32_t control_vector_size; /* floats the model's encoded control vector has */
  int32_t z_dim;               /* one-shot: latent size */
} fk_model_info;

typedef struct fk_control_info {
  const char* name;     /* valid while the model lives */
  fk_bool32 categorical;
  int32_t choice_count; /* categorical: number of choices (see fk_model_control_choice) */
  float low, high;      /* continuous: the allowed range */
  fk_bool32 log_scale;  /* continuous: mapped log-spaced */
  float default_value;  /* the value, or the default choice index */
  const char* unit;     /* "" when none; valid while the model lives */
} fk_control_info;

/* Loads and checks a .fkm file: every tensor's name, shape and type, the feature settings,
 * the control schema. A damaged or hostile file gives FK_RESULT_MODEL_INVALID and a message
 * (fk_last_error), never a crash. Passing the .onnx file gives FK_RESULT_UNSUPPORTED with a
 * message pointing at the .fkm. Allocates: not on the audio thread. */
FK_API fk_result FK_CALL fk_model_load(const char* path, fk_model** out);
/* The same from memory (the bytes are copied; the caller keeps its buffer). */
FK_API fk_result FK_CALL fk_model_load_memory(const void* data, size_t size, fk_model** out);
/* NULL is fine. Only after every session of this model is destroyed. */
FK_API void FK_CALL fk_model_destroy(fk_model* model);

/* Any thread; real-time safe. */
FK_API fk_result FK_CALL fk_model_get_info(const fk_model* model, fk_model_info* out);
FK_API fk_result FK_CALL fk_model_get_control(const fk_model* model, int32_t index,
                                              fk_control_info* out);
/* Name of a categorical control's choice; NULL when out of range. Valid while the model
 * lives. Real-time safe. */
FK_API const char* FK_CALL fk_model_control_choice(const fk_model* model, int32_t control,
                                                   int32_t choice);
/* Index of a control by name, or -1. Real-time safe. */
FK_API int32_t FK_CALL fk_model_find_control(const fk_model* model, const char* name);
/* Index of a categorical control's choice by name, or -1. Real-time safe. */
FK_API int32_t FK_CALL fk_model_find_choice(const fk_model* model, int32_t control,
                                            const char* choice);
/* Writes every control's default (control_count floats; capacity must be at least that). */
FK_API fk_result FK_CALL fk_model_default_controls(const fk_model* model, float* values,
                                                   int32_t capacity);

/* A session for this model. Allocates: not on the audio thread. */
FK_API fk_result FK_CALL fk_model_session_create(const fk_model* model,
                                                 fk_model_session** out);
FK_API void FK_CALL fk_model_session_destroy(fk_model_session* session);

/* One-shot models: a clip of log-mel frames for (controls, seed). values: control_count
 * floats (NULL: all defaults). log_mel: capacity_frames * n_mels floats, frame-major; frames
 * up to the last one the model marks as sounding are written, *out_frames says how many.
 * capacity_frames must be >= max_frames. A value out of range gives
 * FK_RESULT_INVALID_ARGUMENT naming the control. No allocation; safe on any one thread per
 * session (it takes a few hundred microseconds: a worker thread, not the audio callback). */
FK_API fk_result FK_CALL fk_model_generate(fk_model_session* session, const float* values,
                                           int32_t n_values, uint64_t seed, float* log_mel,
                                           int32_t capacity_frames, int32_t* out_frames);

/* Step models: starts a stream (silence as context) for (controls, seed). No allocation. */
FK_API fk_result FK_CALL fk_model_stream_reset(fk_model_session* session, const float* values,
                                               int32_t n_values, uint64_t seed);
/* New control values from the next frame on. No allocation. */
FK_API fk_result FK_CALL fk_model_stream_set_controls(fk_model_session* session,
                                                      const float* values, int32_t n_values);
/* The next n_frames log-mel frames (frame-major, n_frames * n_mels floats). No allocation. */
FK_API fk_result FK_CALL fk_model_stream_next(fk_model_session* session, float* log_mel,
                                              int32_t n_frames);

#ifdef __cplusplus
}
#endif

#endif /* FOLEYKIT_H */

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
  FK_RESULT_BUSY = -13,              /* an engine queue is full (its worker is behind, or render
                                        is not being called); nothing was queued: retry later */
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
  int32_t window_frames;       /* step: frames of context a step depends on (a relative-position
                                  Transformer: layers * (attention window - 1) + 1) */
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

/* ---- engine ---------------------------------------------------------------------------
 * Voices of loaded models, mixed into the host's audio callback. Three kinds of thread meet
 * here, only through lock-free queues:
 *  - game threads (any number, any thread but the audio callback) trigger one-shots, start
 *    ambiences, change controls, stop voices; each call validates, queues and returns.
 *  - worker threads (config.worker_threads, owned by the engine) run model inference and
 *    phase reconstruction for one-shots into a buffer per voice, keep ambience voices
 *    streaming ahead into a ring per voice, and call the event callback.
 *  - one audio thread calls fk_engine_render: it only mixes and streams; it never allocates,
 *    locks, logs or throws.
 * A one-shot is heard from the first render after its worker made the clip's first part
 * (about half a millisecond; a long clip then plays while the worker makes the rest, 75 ms
 * of sound or more ahead; see fk_engine_get_stats.ready_latency_ns and
 * FK_ENGINE_EVENT_VOICE_STARTED). A voice's samples depend only on (model, controls, seed,
 * quality tier), not on the host's block size or on when the worker finishes (unless the
 * voice runs dry: FK_ENGINE_EVENT_UNDERRUN).
 * Output is float32, interleaved when stereo. Models must have the engine's sample rate. */

typedef struct fk_engine fk_engine;

/* A voice: nonzero, never reused during the engine's life. The low 16 bits are the model
 * id the voice plays. */
typedef uint64_t fk_voice_id;

/* How a voice's sound is made (see fk_engine_tier). AUTO is config.default_quality, or LOW
 * when the voice's gain is below config.quiet_gain. Every tier is lowered to LOW while the
 * voice's worker is behind (more than config.overload_backlog one-shots waiting). */
typedef enum fk_engine_quality {
  FK_ENGINE_QUALITY_AUTO = 0,
  FK_ENGINE_QUALITY_LOW = 1,
  FK_ENGINE_QUALITY_MEDIUM = 2,
  FK_ENGINE_QUALITY_HIGH = 3,
  FK_ENGINE_QUALITY_FORCE_32BIT = 0x7fffffff
} fk_engine_quality;

/* What a quality tier costs. */
typedef struct fk_engine_tier {
  fk_phase_method oneshot_method;  /* one-shots: phase reconstruction of the whole clip */
  int32_t gl_iterations;           /* Griffin-Lim rounds for the GRIFFIN_LIM methods, 0..1000 */
  fk_stream_method ambience_method; /* ambiences: frame-by-frame phase */
} fk_engine_tier;

#define FK_ENGINE_TIER_COUNT 3 /* tiers[0] LOW, tiers[1] MEDIUM, tiers[2] HIGH */

/* Every buffer the audio thread uses is sized from these at creation. */
typedef struct fk_engine_config {
  int32_t version;                 /* FK_CONFIG_VERSION */
  int32_t sample_rate;             /* Hz, 8000..384000; default 48000 (the default models') */
  int32_t channels;                /* 1, or 2 (interleaved, constant-power pan); default 2 */
  int32_t max_block_frames;        /* frames per internal mix pass, 1..16384; default 512 */
  int32_t max_voices;              /* audible voices, 1..1024; default 32. One more steals the
                                      quietest one-shot (ambiences only when no one-shot
                                      plays), new voice included; a 10 ms fade */
  int32_t worker_threads;          /* 1..16; default 1 */
  float max_clip_seconds;          /* longest one-shot a voice holds; default 2 */
  int32_t ambience_buffer_samples; /* how far a worker streams an ambience ahead, per voice,
                                      1024..2^20; default 8192 (170 ms at 48 kHz). Larger
                                      survives longer stalls; controls then take longer */
  int32_t command_capacity;        /* queued commands per worker, 4..65536; default 256 */
  int32_t event_capacity;          /* queued events, 4..2^20; default 1024 */
  int32_t max_models;              /* 1..4096; default 16 */
  float control_smoothing_ms;      /* ambience controls glide this long, 0..10000; default 50.
                                      The model takes the glide's value every 4th frame
                                      (21 ms at 48 kHz, hop 256): a control change makes a
                                      cached Transformer recompute its window */
  float quiet_gain;                /* AUTO voices quieter than this use LOW; default 0.1 */
  int32_t overload_backlog;        /* one-shots waiting on a worker before new ones use LOW;
                                      default 8 */
  fk_engine_quality default_quality; /* what AUTO means otherwise; default MEDIUM */
  fk_engine_tier tiers[FK_ENGINE_TIER_COUNT]; /* defaults: LOW {PGHI, 0, RANDOM},
                                      MEDIUM {PGHI, 0, RTPGHI}, HIGH {PGHI_GRIFFIN_LIM, 16, RTPGHI}.
                                      PGHI one-shots start playing after their first part
                                      (about 0.5 ms); Griffin-Lim ones only once whole (HIGH:
                                      about 4 ms for a 0.7 s clip) */
} fk_engine_config;

typedef enum fk_engine_event_type {
  FK_ENGINE_EVENT_VOICE_STARTED = 0, /* first rendered; value: microseconds since trigger/start */
  FK_ENGINE_EVENT_VOICE_ENDED = 1,   /* every voice id ends exactly once: played out, faded
                                        out after stop or steal, or never played */
  FK_ENGINE_EVENT_VOICE_STOLEN = 2,  /* the voice limit took it (ENDED follows) */
  FK_ENGINE_EVENT_UNDERRUN = 3,      /* a voice ran dry and faded to silence until its
                                        worker caught up (an ambience's stream, or a one-shot
                                        still being made after a long worker stall); value:
                                        its underruns so far */
  FK_ENGINE_EVENT_OVERLOAD = 4,      /* a worker fell behind and lowered quality; voice 0;
                                        value: one-shots waiting on it */
  FK_ENGINE_EVENT_VOICE_FAILED = 5,  /* the worker could not make it (ENDED follows) */
  FK_ENGINE_EVENT_FORCE_32BIT = 0x7fffffff
} fk_engine_event_type;

typedef struct fk_engine_event {
  fk_engine_event_type type;
  int32_t model;       /* the voice's model id; -1 for OVERLOAD */
  fk_voice_id voice;   /* 0 for OVERLOAD */
  int64_t frame;       /* the engine's clock (frames rendered so far) when it happened */
  int64_t value;       /* see the type */
} fk_engine_event;

/* Called on worker thread 0, never on the audio thread. The event is valid during the call.
 * Must not call fk_engine_set_event_callback or fk_engine_destroy. */
typedef void(FK_CALL* fk_engine_event_callback)(const fk_engine_event* event, void* user_data);

typedef struct fk_engine_stats {
  int32_t voices_playing;     /* voices the last render mixed (fading ones included) */
  int32_t voices_ready;       /* prepared by a worker, waiting for the next render */
  int32_t models;
  int32_t reserved;
  int64_t jobs_pending;       /* triggers and starts accepted but not yet prepared */
  uint64_t voices_started;    /* counters since creation */
  uint64_t voices_ended;
  uint64_t voices_stolen;
  uint64_t underruns;
  uint64_t overloads;         /* voices lowered to LOW, or calls refused, because of a backlog */
  uint64_t events_dropped;    /* events lost because nobody drained the queue */
  uint64_t frames_rendered;   /* the engine's clock */
  uint64_t oneshots_rendered;
  uint64_t ambience_frames;   /* model frames streamed for ambiences */
  uint64_t worker_busy_ns;    /* time the workers spent working, all together */
  uint64_t ready_latency_ns;  /* trigger (or start) to playable, summed over every voice a
                                 worker handed to the audio thread: the difference across
                                 one trigger is that voice's latency, inference included */
  uint64_t oneshots_early;    /* one-shots handed to the audio thread once their first part
                                 was made, the rest still being made (long PGHI clips) */
} fk_engine_stats;

/* Defaults (above). Any thread; real-time safe. */
FK_API fk_engine_config FK_CALL fk_engine_config_default(void);

/* Creates an engine and starts its worker threads. Allocates every voice buffer: not on the
 * audio thread. *out is NULL on failure (FK_RESULT_INVALID_ARGUMENT names the bad field;
 * FK_RESULT_VERSION_MISMATCH). */
FK_API fk_result FK_CALL fk_engine_create(const fk_engine_config* config, fk_engine** out);
/* Stops the workers and frees everything; NULL is fine. Not while another thread is in any
 * fk_engine_* call on it (render included). Models added stay valid for their other owners. */
FK_API void FK_CALL fk_engine_destroy(fk_engine* engine);

/* Registers a model; *out_model_id gets its id (0, 1, ... in order). The engine shares the
 * model: the host may fk_model_destroy its handle right after. Refuses a model whose sample
 * rate differs from the engine's (FK_RESULT_UNSUPPORTED, "wrong sample rate"), a one-shot
 * longer than max_clip_seconds, or more than max_models. Allocates (a session per worker):
 * any thread but the audio thread. Returns once the workers have made room for the model and
 * warmed it up (one clip of a one-shot model is made and discarded, about a millisecond; at
 * most 2 s when a worker is busy), so the first trigger is as quick as the next. */
FK_API fk_result FK_CALL fk_engine_add_model(fk_engine* engine, const fk_model* model,
                                             int32_t* out_model_id);

/* Plays a one-shot model's sound for (values, seed): values holds control_count floats in
 * schema order (as fk_model_generate), or is NULL with n_values 0 for the defaults. gain in
 * [0, 16]; pan in [-1 left, 1 right] (ignored in mono). *out_voice gets the voice id.
 * Everything is checked here: an unknown model id or a value out of range gives
 * FK_RESULT_INVALID_ARGUMENT with fk_last_error() naming it; an ambience model gives
 * FK_RESULT_UNSUPPORTED; a full command queue (worker behind, or render not called) gives
 * FK_RESULT_BUSY and nothing is queued. Any thread but the audio thread, any
 * number at once; lock-free (it may wake a sleeping worker); no allocation. */
FK_API fk_result FK_CALL fk_engine_trigger(fk_engine* engine, int32_t model_id, const float* values,
                                           int32_t n_values, uint64_t seed, float gain, float pan,
                                           fk_engine_quality quality, fk_voice_id* out_voice);

/* Starts an ambience (step) model's endless stream: as fk_engine_trigger otherwise. The
 * worker fills the voice's ring before it plays. */
FK_API fk_result FK_CALL fk_engine_start(fk_engine* engine, int32_t model_id, const float* values,
                                         int32_t n_values, uint64_t seed, float gain, float pan,
                                         fk_engine_quality quality, fk_voice_id* out_voice);

/* New control values for a playing ambience (control_count floats, checked as in trigger).
 * Continuous controls glide over config.control_smoothing_ms; categorical ones switch. They
 * are heard after the samples already streamed ahead (up to ambience_buffer_samples). A
 * one-shot voice gives FK_RESULT_UNSUPPORTED; a voice that has ended is ignored. Threads as
 * fk_engine_trigger. */
FK_API fk_result FK_CALL fk_engine_set_controls(fk_engine* engine, fk_voice_id voice,
                                                const float* values, int32_t n_values);

/* New gain and pan for any voice, glided over 5 ms. Threads as fk_engine_trigger. */
FK_API fk_result FK_CALL fk_engine_set_voice_gain(fk_engine* engine, fk_voice_id voice, float gain,
                                                  float pan);

/* Fades a voice out over fade_ms (0..60000; at least 1 ms) and ends it. A voice not yet
 * playing ends without sounding; one that has ended is ignored. Threads as
 * fk_engine_trigger. */
FK_API fk_result FK_CALL fk_engine_stop(fk_engine* engine, fk_voice_id voice, float fade_ms);

/* Mixes `frames` frames of every voice into out (frames * channels floats, interleaved),
 * overwriting it. Any frame count works: more than max_block_frames is rendered in passes.
 * The audio thread, one at a time (a concurrent second call gets FK_RESULT_UNSUPPORTED).
 * Real-time safe: no allocation, no locks, no logging; errors return a code without a
 * message (FK_RESULT_INVALID_ARGUMENT: NULL engine, NULL out with frames > 0, frames < 0). */
FK_API fk_result FK_CALL fk_engine_render(fk_engine* engine, float* out, int32_t frames);

/* Takes the oldest event into *out: 1 when one was written, 0 when none is waiting (or a
 * callback is set, which takes them instead). Any thread but the audio thread; lock-free. */
FK_API fk_bool32 FK_CALL fk_engine_poll_event(fk_engine* engine, fk_engine_event* out);

/* Events go to callback (on worker thread 0, within a millisecond or so) instead of
 * fk_engine_poll_event; NULL goes back to polling. Returns once no call to the previous
 * callback is in progress. Any thread but the audio thread and the callback itself. */
FK_API fk_result FK_CALL fk_engine_set_event_callback(fk_engine* engine,
                                                      fk_engine_event_callback callback,
                                                      void* user_data);

/* Counters and gauges, each read atomically (not a snapshot of all at one instant). Any
 * thread; real-time safe. */
FK_API fk_result FK_CALL fk_engine_get_stats(const fk_engine* engine, fk_engine_stats* out);

/* Blocks the calling thread until every voice asked for so far is prepared (the next render
 * plays it) and every ambience ring is full: 1 when so, 0 after timeout_ms (or for a NULL
 * engine). For offline rendering (sync, render, sync, ...: faster than real time, without
 * underruns) and tests. Not on the audio thread. While every voice slot is taken, only
 * render frees one, so sync then times out. */
FK_API fk_bool32 FK_CALL fk_engine_sync(fk_engine* engine, int32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* FOLEYKIT_H */

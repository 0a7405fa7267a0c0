/* Test-only native helper for the C# core's tests (never shipped in the Unity package).
 *
 *  - fkt_call_from_native_thread: starts a pthread that calls a C callback `count` times
 *    with the user pointer it was given, then joins it. It tests the C# side's callback
 *    plumbing (static [MonoPInvokeCallback] trampoline + GCHandle user data) from a thread the
 *    managed runtime has never seen, as the engine's log/event callbacks will be called.
 *  - fkt_layout: sizeof/offsetof of the C ABI's structs as this C compiler lays them out, so
 *    the C# struct declarations are checked against the header, not against our reading of it.
 *
 * Build: cc -shared -fPIC -pthread -I native/include -o build/unity/libfoleykit_testhelper.so
 *        unity_bindings/Tests/Native~/foleykit_testhelper.c
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "foleykit/foleykit.h"

#if defined(__GNUC__)
#define FKT_API __attribute__((visibility("default")))
#else
#define FKT_API
#endif

typedef void (*fkt_message_callback)(void* user, int32_t code, const char* message);

typedef struct fkt_job {
  fkt_message_callback callback;
  void* user;
  int32_t count;
  uint64_t thread_tag;
} fkt_job;

static void* fkt_run(void* arg) {
  fkt_job* job = (fkt_job*)arg;
  char message[96];
  int32_t i;
  for (i = 0; i < job->count; ++i) {
    snprintf(message, sizeof message, "message %d from a native thread (\xc3\xa9v\xc3\xa9nement)", (int)i);
    job->callback(job->user, i, message);
  }
  return NULL;
}

/* Calls callback(user, i, "message i ...") for i in 0..count-1 on a new native thread; returns
 * 0 once that thread has finished, -1 if it could not be started. */
FKT_API int32_t fkt_call_from_native_thread(fkt_message_callback callback, void* user, int32_t count) {
  pthread_t thread;
  fkt_job job;
  if (!callback || count < 0) return -1;
  job.callback = callback;
  job.user = user;
  job.count = count;
  job.thread_tag = 0;
  if (pthread_create(&thread, NULL, fkt_run, &job) != 0) return -1;
  pthread_join(thread, NULL);
  return 0;
}

/* Several native threads at once, each calling `count` times. */
FKT_API int32_t fkt_call_from_native_threads(fkt_message_callback callback, void* user, int32_t threads,
                                             int32_t count) {
  pthread_t t[16];
  fkt_job job;
  int32_t i, started = 0;
  if (!callback || threads < 1 || threads > 16) return -1;
  job.callback = callback;
  job.user = user;
  job.count = count;
  job.thread_tag = 0;
  for (i = 0; i < threads; ++i)
    if (pthread_create(&t[i], NULL, fkt_run, &job) == 0) ++started;
  for (i = 0; i < started; ++i) pthread_join(t[i], NULL);
  return started == threads ? 0 : -1;
}

#define FKT_FIELD(type, field) \
  if (strcmp(what, #type "." #field) == 0) return (int64_t)offsetof(type, field)
#define FKT_SIZE(type) \
  if (strcmp(what, #type) == 0) return (int64_t)sizeof(type)

/* sizeof("fk_stream_config") or offsetof("fk_stream_config.seed"); -1 when unknown. */
FKT_API int64_t fkt_layout(const char* what) {
  if (!what) return -1;
  FKT_SIZE(fk_synth_config);
  FKT_FIELD(fk_synth_config, sample_rate);
  FKT_FIELD(fk_synth_config, n_fft);
  FKT_FIELD(fk_synth_config, hop);
  FKT_FIELD(fk_synth_config, n_mels);
  FKT_FIELD(fk_synth_config, fmin);
  FKT_FIELD(fk_synth_config, fmax);
  FKT_FIELD(fk_synth_config, log_floor);
  FKT_SIZE(fk_stream_config);
  FKT_FIELD(fk_stream_config, spectrogram);
  FKT_FIELD(fk_stream_config, input);
  FKT_FIELD(fk_stream_config, method);
  FKT_FIELD(fk_stream_config, seed);
  FKT_SIZE(fk_model_info);
  FKT_FIELD(fk_model_info, family);
  FKT_FIELD(fk_model_info, mode);
  FKT_FIELD(fk_model_info, spectrogram);
  FKT_FIELD(fk_model_info, max_frames);
  FKT_FIELD(fk_model_info, window_frames);
  FKT_FIELD(fk_model_info, control_count);
  FKT_FIELD(fk_model_info, control_vector_size);
  FKT_FIELD(fk_model_info, z_dim);
  FKT_SIZE(fk_control_info);
  FKT_FIELD(fk_control_info, name);
  FKT_FIELD(fk_control_info, categorical);
  FKT_FIELD(fk_control_info, choice_count);
  FKT_FIELD(fk_control_info, low);
  FKT_FIELD(fk_control_info, high);
  FKT_FIELD(fk_control_info, log_scale);
  FKT_FIELD(fk_control_info, default_value);
  FKT_FIELD(fk_control_info, unit);
  FKT_SIZE(fk_engine_tier);
  FKT_FIELD(fk_engine_tier, oneshot_method);
  FKT_FIELD(fk_engine_tier, gl_iterations);
  FKT_FIELD(fk_engine_tier, ambience_method);
  FKT_SIZE(fk_engine_config);
  FKT_FIELD(fk_engine_config, sample_rate);
  FKT_FIELD(fk_engine_config, channels);
  FKT_FIELD(fk_engine_config, max_block_frames);
  FKT_FIELD(fk_engine_config, max_voices);
  FKT_FIELD(fk_engine_config, worker_threads);
  FKT_FIELD(fk_engine_config, max_clip_seconds);
  FKT_FIELD(fk_engine_config, ambience_buffer_samples);
  FKT_FIELD(fk_engine_config, command_capacity);
  FKT_FIELD(fk_engine_config, event_capacity);
  FKT_FIELD(fk_engine_config, max_models);
  FKT_FIELD(fk_engine_config, control_smoothing_ms);
  FKT_FIELD(fk_engine_config, quiet_gain);
  FKT_FIELD(fk_engine_config, overload_backlog);
  FKT_FIELD(fk_engine_config, default_quality);
  FKT_FIELD(fk_engine_config, tiers);
  FKT_FIELD(fk_engine_config, tiers[1]);
  FKT_FIELD(fk_engine_config, tiers[2]);
  FKT_SIZE(fk_engine_event);
  FKT_FIELD(fk_engine_event, type);
  FKT_FIELD(fk_engine_event, model);
  FKT_FIELD(fk_engine_event, voice);
  FKT_FIELD(fk_engine_event, frame);
  FKT_FIELD(fk_engine_event, value);
  FKT_SIZE(fk_engine_stats);
  FKT_FIELD(fk_engine_stats, voices_playing);
  FKT_FIELD(fk_engine_stats, voices_ready);
  FKT_FIELD(fk_engine_stats, models);
  FKT_FIELD(fk_engine_stats, jobs_pending);
  FKT_FIELD(fk_engine_stats, voices_started);
  FKT_FIELD(fk_engine_stats, voices_ended);
  FKT_FIELD(fk_engine_stats, voices_stolen);
  FKT_FIELD(fk_engine_stats, underruns);
  FKT_FIELD(fk_engine_stats, overloads);
  FKT_FIELD(fk_engine_stats, events_dropped);
  FKT_FIELD(fk_engine_stats, frames_rendered);
  FKT_FIELD(fk_engine_stats, oneshots_rendered);
  FKT_FIELD(fk_engine_stats, ambience_frames);
  FKT_FIELD(fk_engine_stats, worker_busy_ns);
  FKT_FIELD(fk_engine_stats, ready_latency_ns);
  FKT_FIELD(fk_engine_stats, oneshots_early);
  FKT_SIZE(fk_engine_quality);
  FKT_SIZE(fk_engine_event_type);
  FKT_SIZE(fk_voice_id);
  FKT_SIZE(fk_result);
  FKT_SIZE(fk_spec_kind);
  FKT_SIZE(fk_phase_method);
  FKT_SIZE(fk_stream_method);
  FKT_SIZE(fk_model_family);
  FKT_SIZE(fk_model_mode);
  return -1;
}

/* The C ABI, used from C99 exactly as an engine binding would: only the public header,
 * linked against the shared library. Compiled with -pedantic -Werror so that anything in
 * foleykit.h that is not plain C99 (C++ leaking in, missing prototypes) breaks the build.
 * Every error code is checked together with the promise that goes with it: nothing is
 * written on error, and a rejected stream push leaves the stream as it was. */
#include <foleykit/foleykit.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { N_FFT = 1024, HOP = 256, BINS = N_FFT / 2 + 1, N_MELS = 80, FRAMES = 48 };
static const double kPi = 3.14159265358979323846;
static const float kSentinel = 12345.0f; /* marks output the library must not touch */

/* ---- synthetic spectrograms (frame-major: element (t, r) at spec[t * rows + r]) ---------- */

/* |W(x)| / |W(0)| of a periodic Hann window, x bins from a partial; main lobe only. */
static double hann_lobe(double x) {
  const double ax = fabs(x);
  if (ax >= 2.0) return 0.0;
  if (ax < 1e-6) return 1.0;
  if (fabs(ax - 1.0) < 1e-6) return 0.5;
  return fabs(sin(kPi * x) / (kPi * x * (1.0 - x * x)));
}

/* Three stationary partials fading in, a decaying broadband click at frame 12, and a low
 * deterministic floor so that no bin is exactly zero (PGHI must cope either way). */
static void make_linear(float* spec, int frames) {
  static const double bin[3] = {23.25, 71.6, 160.0}, amp[3] = {60.0, 30.0, 12.0};
  int t, k, p;
  for (t = 0; t < frames; ++t) {
    const double fade = t < 3 ? (t + 1) / 4.0 : 1.0;
    const double click = t >= 12 ? 25.0 * exp(-(t - 12) / 1.5) : 0.0;
    for (k = 0; k < BINS; ++k) {
      double v = 1e-3 * (1.0 + 0.5 * sin(0.37 * k + 1.1 * t));
      for (p = 0; p < 3; ++p) v += fade * amp[p] * hann_lobe(k - bin[p]);
      v += click / (1.0 + k / 200.0);
      spec[t * BINS + k] = (float)v;
    }
  }
}

/* What a model would emit: a moving formant and a pulsing band, natural log, in [-11, 2]. */
static void make_log_mel(float* lm, int frames) {
  int t, m;
  for (t = 0; t < frames; ++t) {
    const double centre = 20.0 + 8.0 * sin(0.2 * t);
    for (m = 0; m < N_MELS; ++m) {
      double v = 1.5 * exp(-(m - centre) * (m - centre) / 18.0) +
                 0.8 * exp(-(m - 55.0) * (m - 55.0) / 40.0) * (0.5 + 0.5 * cos(0.3 * t)) +
                 0.05 * exp(-m / 25.0);
      v = log(v + 1e-5);
      lm[t * N_MELS + m] = (float)(v < -11.0 ? -11.0 : (v > 2.0 ? 2.0 : v));
    }
  }
}

static void fill(float* p, int64_t n, float v) {
  int64_t i;
  for (i = 0; i < n; ++i) p[i] = v;
}

static int all_equal(const float* p, int64_t n, float v) {
  int64_t i;
  for (i = 0; i < n; ++i)
    if (p[i] != v) return 0;
  return 1;
}

static int all_finite(const float* p, int64_t n) {
  int64_t i;
  for (i = 0; i < n; ++i)
    if (!isfinite(p[i])) return 0;
  return 1;
}

static double peak(const float* p, int64_t n) {
  double m = 0.0;
  int64_t i;
  for (i = 0; i < n; ++i) m = fabs(p[i]) > m ? fabs(p[i]) : m;
  return m;
}

/* ---- library-level functions -------------------------------------------------------------- */

static void test_library(void) {
  static const fk_result codes[] = {
      FK_RESULT_OK,         FK_RESULT_INVALID_ARGUMENT, FK_RESULT_NON_FINITE,
      FK_RESULT_NEGATIVE_MAGNITUDE, FK_RESULT_SHAPE_MISMATCH, FK_RESULT_EMPTY,
      FK_RESULT_BUFFER_TOO_SMALL,   FK_RESULT_OUT_OF_MEMORY,  FK_RESULT_INTERNAL,
      FK_RESULT_VERSION_MISMATCH,   FK_RESULT_MODEL_INVALID,  FK_RESULT_IO,
      FK_RESULT_UNSUPPORTED,        FK_RESULT_BUSY};
  const int n = (int)(sizeof codes / sizeof codes[0]);
  const char* unknown = fk_result_string((fk_result)-1000);
  char want[32];
  int i, j;
  fk_synth_config c = fk_synth_config_default();
  fk_stream_config sc = fk_stream_config_default();

  sprintf(want, "%d.%d.%d", FK_VERSION_MAJOR, FK_VERSION_MINOR, FK_VERSION_PATCH);
  CHECK(fk_version() != NULL && strcmp(fk_version(), want) == 0);

  /* Every code has its own non-empty explanation, distinct from the unknown-code text. */
  CHECK(unknown != NULL && unknown[0] != '\0');
  for (i = 0; i < n; ++i) {
    const char* s = fk_result_string(codes[i]);
    CHECK(s != NULL && s[0] != '\0' && strcmp(s, unknown) != 0);
    for (j = 0; j < i; ++j) CHECK(strcmp(s, fk_result_string(codes[j])) != 0);
  }

  CHECK_EQ(c.version, FK_CONFIG_VERSION);
  CHECK(c.sample_rate == 48000.0f && c.n_fft == 1024 && c.hop == 256 && c.n_mels == 80);
  CHECK(c.fmin == 0.0f && c.fmax == 0.0f && c.log_floor == 1e-5f);
  CHECK_EQ(sc.version, FK_CONFIG_VERSION);
  CHECK_EQ(sc.input, FK_SPEC_KIND_LOG_MEL);
  CHECK_EQ(sc.method, FK_STREAM_METHOD_RTPGHI);
  CHECK_EQ(sc.seed, 0);
  CHECK(memcmp(&sc.spectrogram, &c, sizeof c) == 0);
}

/* ---- fk_synth ----------------------------------------------------------------------------- */

static fk_result create_with(fk_synth_config c) {
  fk_synth* s = (fk_synth*)&c; /* any non-NULL value: create must reset it on failure */
  fk_result r = fk_synth_create(&c, &s);
  if (r != FK_RESULT_OK && s != NULL) r = (fk_result)12345;
  if (r != FK_RESULT_OK && fk_last_error()[0] == '\0') r = (fk_result)23456;
  fk_synth_destroy(r == FK_RESULT_OK ? s : NULL);
  return r;
}

static void test_synth_create(void) {
  fk_synth_config c = fk_synth_config_default();
  fk_synth* s = NULL;

  fk_synth_destroy(NULL);
  CHECK_EQ(fk_synth_create(NULL, &s), FK_RESULT_INVALID_ARGUMENT);
  CHECK(s == NULL);
  CHECK_EQ(fk_synth_create(&c, NULL), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(create_with(c), FK_RESULT_OK);

  c = fk_synth_config_default(); c.version = FK_CONFIG_VERSION + 1;
  CHECK_EQ(create_with(c), FK_RESULT_VERSION_MISMATCH);
  c = fk_synth_config_default(); c.version = 0;
  CHECK_EQ(create_with(c), FK_RESULT_VERSION_MISMATCH);
  c = fk_synth_config_default(); c.n_fft = 0;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.n_fft = 1023;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.n_fft = 1 << 20;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.hop = 0;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.hop = c.n_fft / 2 + 1;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.sample_rate = (float)NAN;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.sample_rate = (float)INFINITY;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.sample_rate = 0.0f;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.n_mels = 0;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.log_floor = 0.0f;
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_synth_config_default(); c.fmax = 30000.0f; /* above sr/2 */
  CHECK_EQ(create_with(c), FK_RESULT_INVALID_ARGUMENT);
}

/* Renders into a sentinel-filled buffer a little larger than needed; returns NULL on error
 * (with *r set). The tail past *len must stay untouched. */
static float* render(const fk_synth* s, const float* spec, int32_t rows, fk_spec_kind kind,
                     fk_phase_method m, uint64_t seed, int64_t* len, fk_result* r) {
  const int64_t need = fk_synth_output_length(s, FRAMES), cap = need + 64;
  float* out = (float*)malloc((size_t)cap * sizeof(float));
  fill(out, cap, kSentinel);
  *r = fk_synth_render(s, spec, rows, FRAMES, kind, m, 8, seed, out, cap, len);
  CHECK(*r == FK_RESULT_OK || fk_last_error()[0] != '\0');
  if (*r != FK_RESULT_OK) {
    free(out);
    return NULL;
  }
  CHECK_EQ(*len, need);
  CHECK(all_equal(out + need, cap - need, kSentinel));
  return out;
}

/* A render that must fail: returns its code, or 99 if it wrote anything or no message. */
static int render_error(const fk_synth* s, const float* spec, int32_t rows, int32_t frames,
                        fk_spec_kind kind, int64_t cap) {
  enum { CAP = HOP * FRAMES + 64 };
  static float out[CAP];
  int64_t len = -7;
  fk_result r;
  fill(out, CAP, kSentinel);
  r = fk_synth_render(s, spec, rows, frames, kind, FK_PHASE_METHOD_PGHI, 4, 1, out,
                      cap < CAP ? cap : CAP, &len);
  if (r == FK_RESULT_OK || len != 0 || !all_equal(out, CAP, kSentinel)) return 99;
  if (fk_last_error()[0] == '\0') return 98;
  return r;
}

static void test_synth_render(void) {
  static const fk_phase_method methods[] = {FK_PHASE_METHOD_PGHI, FK_PHASE_METHOD_GRIFFIN_LIM,
                                            FK_PHASE_METHOD_PGHI_GRIFFIN_LIM,
                                            FK_PHASE_METHOD_RANDOM};
  static float lin[FRAMES * BINS], lm[FRAMES * N_MELS], mel[FRAMES * N_MELS], bad[FRAMES * BINS];
  fk_synth_config c = fk_synth_config_default();
  fk_synth* s = NULL;
  const int64_t need = HOP * (FRAMES - 1);
  int i, mi, ki;

  make_linear(lin, FRAMES);
  make_log_mel(lm, FRAMES);
  for (i = 0; i < FRAMES * N_MELS; ++i) mel[i] = (float)exp(lm[i]);

  CHECK_EQ(fk_synth_create(&c, &s), FK_RESULT_OK);
  if (!s) return;
  CHECK_EQ(fk_synth_output_length(s, FRAMES), need);
  CHECK_EQ(fk_synth_output_length(s, 1), 0);
  CHECK_EQ(fk_synth_output_length(s, 0), 0);
  CHECK_EQ(fk_synth_output_length(s, -3), 0);
  CHECK_EQ(fk_synth_output_length(NULL, FRAMES), 0);

  for (ki = 0; ki < 3; ++ki) {
    const fk_spec_kind kind = ki == 0 ? FK_SPEC_KIND_LINEAR : ki == 1 ? FK_SPEC_KIND_MEL
                                                                      : FK_SPEC_KIND_LOG_MEL;
    const float* spec = ki == 0 ? lin : ki == 1 ? mel : lm;
    const int32_t rows = ki == 0 ? BINS : N_MELS;
    for (mi = 0; mi < 4; ++mi) {
      int64_t la = 0, lb = 0, lc = 0;
      fk_result ra, rb, rc;
      float* a = render(s, spec, rows, kind, methods[mi], 7, &la, &ra);
      float* b = render(s, spec, rows, kind, methods[mi], 7, &lb, &rb);
      float* d = render(s, spec, rows, kind, methods[mi], 8, &lc, &rc);
      CHECK_EQ(ra, FK_RESULT_OK);
      CHECK_EQ(rb, FK_RESULT_OK);
      CHECK_EQ(rc, FK_RESULT_OK);
      if (a && b && d) {
        CHECK(all_finite(a, la));
        CHECK(peak(a, la) > 1e-4);
        /* Determinism is part of the contract: a seeded event must sound the same twice. */
        CHECK(memcmp(a, b, (size_t)la * sizeof(float)) == 0);
        /* Random phases come from the seed, so a new seed must give a new waveform. */
        if (methods[mi] == FK_PHASE_METHOD_RANDOM || methods[mi] == FK_PHASE_METHOD_GRIFFIN_LIM)
          CHECK(memcmp(a, d, (size_t)la * sizeof(float)) != 0);
      }
      free(a);
      free(b);
      free(d);
    }
  }

  /* Null pointers: each one alone. */
  {
    float out[16];
    int64_t len = 5;
    CHECK_EQ(fk_synth_render(NULL, lin, BINS, FRAMES, FK_SPEC_KIND_LINEAR, FK_PHASE_METHOD_PGHI,
                             0, 0, out, 16, &len), FK_RESULT_INVALID_ARGUMENT);
    CHECK_EQ(len, 0);
    CHECK(fk_last_error()[0] != '\0');
    CHECK_EQ(render_error(s, NULL, BINS, FRAMES, FK_SPEC_KIND_LINEAR, need),
             FK_RESULT_INVALID_ARGUMENT);
    CHECK_EQ(fk_synth_render(s, lin, BINS, FRAMES, FK_SPEC_KIND_LINEAR, FK_PHASE_METHOD_PGHI, 0,
                             0, NULL, need, &len), FK_RESULT_INVALID_ARGUMENT);
    CHECK_EQ(fk_synth_render(s, lin, BINS, FRAMES, FK_SPEC_KIND_LINEAR, FK_PHASE_METHOD_PGHI, 0,
                             0, out, need, NULL), FK_RESULT_INVALID_ARGUMENT);
  }

  /* Bad values anywhere: a NaN late in the data must still stop the render up front. */
  memcpy(bad, lin, sizeof lin);
  bad[(FRAMES - 2) * BINS + 300] = (float)NAN;
  CHECK_EQ(render_error(s, bad, BINS, FRAMES, FK_SPEC_KIND_LINEAR, need), FK_RESULT_NON_FINITE);
  bad[(FRAMES - 2) * BINS + 300] = (float)INFINITY;
  CHECK_EQ(render_error(s, bad, BINS, FRAMES, FK_SPEC_KIND_LINEAR, need), FK_RESULT_NON_FINITE);
  bad[(FRAMES - 2) * BINS + 300] = -(float)INFINITY;
  CHECK_EQ(render_error(s, bad, BINS, FRAMES, FK_SPEC_KIND_LINEAR, need), FK_RESULT_NON_FINITE);
  bad[(FRAMES - 2) * BINS + 300] = -0.5f;
  CHECK_EQ(render_error(s, bad, BINS, FRAMES, FK_SPEC_KIND_LINEAR, need),
           FK_RESULT_NEGATIVE_MAGNITUDE);
  memcpy(bad, mel, sizeof mel);
  bad[5 * N_MELS + 3] = -1e-3f;
  CHECK_EQ(render_error(s, bad, N_MELS, FRAMES, FK_SPEC_KIND_MEL, need),
           FK_RESULT_NEGATIVE_MAGNITUDE);
  memcpy(bad, lm, sizeof lm);
  bad[5 * N_MELS + 3] = (float)NAN;
  CHECK_EQ(render_error(s, bad, N_MELS, FRAMES, FK_SPEC_KIND_LOG_MEL, need), FK_RESULT_NON_FINITE);
  /* Negative values are normal in a log-mel; only NaN/Inf are errors there. */
  CHECK(lm[0] < 0.0f);
  /* exp(100) overflows float: a broken model, refused rather than rendered as Inf. */
  bad[5 * N_MELS + 3] = 100.0f;
  CHECK(render_error(s, bad, N_MELS, FRAMES, FK_SPEC_KIND_LOG_MEL, need) < 0);

  /* Shapes and sizes. */
  CHECK_EQ(render_error(s, lin, BINS - 1, FRAMES, FK_SPEC_KIND_LINEAR, need),
           FK_RESULT_SHAPE_MISMATCH);
  CHECK_EQ(render_error(s, lin, N_MELS, FRAMES, FK_SPEC_KIND_LINEAR, need),
           FK_RESULT_SHAPE_MISMATCH);
  CHECK_EQ(render_error(s, lin, BINS, FRAMES, FK_SPEC_KIND_MEL, need), FK_RESULT_SHAPE_MISMATCH);
  CHECK_EQ(render_error(s, lin, N_MELS + 1, FRAMES, FK_SPEC_KIND_LOG_MEL, need),
           FK_RESULT_SHAPE_MISMATCH);
  CHECK_EQ(render_error(s, lin, BINS, 0, FK_SPEC_KIND_LINEAR, need), FK_RESULT_EMPTY);
  CHECK_EQ(render_error(s, lin, BINS, FRAMES, FK_SPEC_KIND_LINEAR, need - 1),
           FK_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ(render_error(s, lin, BINS, FRAMES, FK_SPEC_KIND_LINEAR, 0), FK_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ(render_error(s, lin, BINS, FRAMES, (fk_spec_kind)7, need), FK_RESULT_INVALID_ARGUMENT);

  fk_synth_destroy(s);
}

/* ---- fk_stream ---------------------------------------------------------------------------- */

enum { STREAM_CAP = HOP * FRAMES + N_FFT + HOP };

/* Pushes frames [from, to) in chunks of `chunk`, appending to out at *total. */
static fk_result push_range(fk_stream* st, const float* frames, int rows, int from, int to,
                            int chunk, float* out, int64_t* total) {
  int t;
  for (t = from; t < to; t += chunk) {
    const int n = to - t < chunk ? to - t : chunk;
    int32_t w = -1;
    fk_result r = fk_stream_push(st, frames + (int64_t)t * rows, n, out + *total,
                                 (int32_t)(STREAM_CAP - *total), &w);
    if (r != FK_RESULT_OK) return r;
    if (w < 0 || w > n * HOP) return FK_RESULT_INTERNAL;
    *total += w;
  }
  return FK_RESULT_OK;
}

static fk_result flush_into(fk_stream* st, float* out, int64_t* total) {
  int32_t w = -1;
  fk_result r = fk_stream_flush(st, out + *total, (int32_t)(STREAM_CAP - *total), &w);
  if (r == FK_RESULT_OK) *total += w;
  return r;
}

/* A whole sound through a stream: push in chunks, flush. Returns samples, or -1. */
static int64_t stream_run(fk_stream* st, const float* frames, int rows, int chunk, float* out) {
  int64_t total = 0;
  if (push_range(st, frames, rows, 0, FRAMES, chunk, out, &total) != FK_RESULT_OK) return -1;
  if (flush_into(st, out, &total) != FK_RESULT_OK) return -1;
  return total;
}

static fk_stream* make_stream(fk_spec_kind input, fk_stream_method m, uint64_t seed) {
  fk_stream_config c = fk_stream_config_default();
  fk_stream* st = NULL;
  c.input = input;
  c.method = m;
  c.seed = seed;
  CHECK_EQ(fk_stream_create(&c, &st), FK_RESULT_OK);
  return st;
}

static int same(const float* a, const float* b, int64_t n) {
  return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

static void test_stream_kind(fk_spec_kind kind, fk_stream_method m, const float* frames,
                             int rows, float bad_value, fk_result bad_code) {
  static float ref[STREAM_CAP], out[STREAM_CAP], badf[5 * BINS];
  /* A streamed sound is the whole overlap-add support: the one-call render's hop*(F-1)
   * samples and then the last n_fft/2, which a caller that knows the length may cut. */
  const int64_t want = (int64_t)HOP * (FRAMES - 1) + N_FFT / 2;
  fk_stream* st = make_stream(kind, m, 3);
  int64_t n_ref, n, total;
  int32_t w;
  int chunk;
  if (!st) return;
  CHECK_EQ(fk_stream_frame_rows(st), rows);
  w = -1;
  CHECK_EQ(fk_stream_flush(st, out, STREAM_CAP, &w), FK_RESULT_OK); /* nothing pushed yet */
  CHECK_EQ(w, 0);
  CHECK(fk_stream_latency_samples(st) >= N_FFT / 2 &&
        fk_stream_latency_samples(st) <= N_FFT + HOP);

  n_ref = stream_run(st, frames, rows, FRAMES, ref);
  CHECK_EQ(n_ref, want);
  if (n_ref != want) {
    fk_stream_destroy(st);
    return;
  }
  CHECK(all_finite(ref, n_ref));
  CHECK(peak(ref, n_ref) > 1e-5);

  /* How a host slices frames into pushes must not change a single sample. */
  for (chunk = 1; chunk <= 3; chunk += 2) {
    n = stream_run(st, frames, rows, chunk, out);
    CHECK_EQ(n, want);
    CHECK(n == want && same(ref, out, n));
  }

  /* A bad frame in the middle of a push is rejected before any frame is used. */
  memcpy(badf, frames + 10 * rows, 5 * (size_t)rows * sizeof(float));
  badf[2 * rows + rows / 2] = bad_value;
  total = 0;
  fill(out, STREAM_CAP, kSentinel);
  CHECK_EQ(push_range(st, frames, rows, 0, 10, 4, out, &total), FK_RESULT_OK);
  w = -1;
  CHECK_EQ(fk_stream_push(st, badf, 5, out + total, (int32_t)(STREAM_CAP - total), &w), bad_code);
  CHECK_EQ(w, 0);
  CHECK(all_equal(out + total, STREAM_CAP - total, kSentinel));
  /* Too small an output buffer is rejected the same way: nothing consumed. */
  CHECK_EQ(fk_stream_push(st, frames + 10 * rows, 5, out + total, 5 * HOP - 1, &w),
           FK_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ(w, 0);
  CHECK_EQ(fk_stream_push(st, frames, 0, out + total, 0, &w), FK_RESULT_OK);
  CHECK_EQ(w, 0);
  CHECK_EQ(push_range(st, frames, rows, 10, FRAMES, 7, out, &total), FK_RESULT_OK);
  CHECK_EQ(fk_stream_flush(st, out + total, N_FFT + HOP - 1, &w), FK_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ(flush_into(st, out, &total), FK_RESULT_OK);
  CHECK_EQ(total, want);
  CHECK(total == want && same(ref, out, total));

  /* reset drops a half-pushed sound: the next sound is as if on a fresh stream. */
  total = 0;
  CHECK_EQ(push_range(st, frames, rows, 20, 27, 2, out, &total), FK_RESULT_OK);
  fk_stream_reset(st);
  n = stream_run(st, frames, rows, 5, out);
  CHECK(n == want && same(ref, out, n));

  /* RANDOM phases are hashed from (seed, frame, bin) in both APIs, so the stream must be the
   * one-call render plus its tail: this checks the streaming overlap-add and normalisation. */
  if (m == FK_STREAM_METHOD_RANDOM) {
    fk_synth_config sc = fk_synth_config_default();
    fk_synth* s = NULL;
    const int64_t n_render = (int64_t)HOP * (FRAMES - 1);
    int64_t len = 0, i;
    double err = 0.0;
    CHECK_EQ(fk_synth_create(&sc, &s), FK_RESULT_OK);
    CHECK_EQ(fk_synth_render(s, frames, rows, FRAMES, kind, FK_PHASE_METHOD_RANDOM, 0, 3, out,
                             STREAM_CAP, &len), FK_RESULT_OK);
    CHECK_EQ(len, n_render);
    for (i = 0; i < len && i < n_render; ++i)
      err = fabs(out[i] - ref[i]) > err ? fabs(out[i] - ref[i]) : err;
    if (err > 1e-5 * peak(ref, n_render))
      fprintf(stderr, "stream vs render (input %d): max diff %g, peak %g\n", (int)kind, err,
              peak(ref, n_render));
    CHECK(err <= 1e-5 * peak(ref, n_render));
    fk_synth_destroy(s);
  }

  /* Seeds: same seed on another stream gives the same sound; RANDOM depends on the seed. */
  {
    fk_stream* s2 = make_stream(kind, m, 3);
    fk_stream* s3 = make_stream(kind, m, 4);
    if (s2 && s3) {
      n = stream_run(s2, frames, rows, FRAMES, out);
      CHECK(n == want && same(ref, out, n));
      n = stream_run(s3, frames, rows, FRAMES, out);
      CHECK_EQ(n, want);
      if (m == FK_STREAM_METHOD_RANDOM) CHECK(n == want && !same(ref, out, n));
    }
    fk_stream_destroy(s2);
    fk_stream_destroy(s3);
  }

  /* Argument errors. */
  CHECK_EQ(fk_stream_push(NULL, frames, 1, out, STREAM_CAP, &w), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_stream_push(st, NULL, 1, out, STREAM_CAP, &w), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_stream_push(st, frames, 1, NULL, STREAM_CAP, &w), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_stream_push(st, frames, 1, out, STREAM_CAP, NULL), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_stream_push(st, frames, -1, out, STREAM_CAP, &w), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_stream_flush(NULL, out, STREAM_CAP, &w), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_stream_flush(st, NULL, STREAM_CAP, &w), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_stream_flush(st, out, STREAM_CAP, NULL), FK_RESULT_INVALID_ARGUMENT);
  fk_stream_reset(NULL);
  fk_stream_destroy(st);
}

static fk_result stream_create_with(fk_stream_config c) {
  fk_stream* st = (fk_stream*)&c;
  fk_result r = fk_stream_create(&c, &st);
  if (r != FK_RESULT_OK && st != NULL) r = (fk_result)12345;
  if (r != FK_RESULT_OK && fk_last_error()[0] == '\0') r = (fk_result)23456;
  fk_stream_destroy(r == FK_RESULT_OK ? st : NULL);
  return r;
}

static void test_stream(void) {
  static float lin[FRAMES * BINS], lm[FRAMES * N_MELS], mel[FRAMES * N_MELS];
  fk_stream_config c;
  fk_stream* st = NULL;
  int i, mi;

  make_linear(lin, FRAMES);
  make_log_mel(lm, FRAMES);
  for (i = 0; i < FRAMES * N_MELS; ++i) mel[i] = (float)exp(lm[i]);

  fk_stream_destroy(NULL);
  CHECK_EQ(fk_stream_frame_rows(NULL), 0);
  CHECK_EQ(fk_stream_create(NULL, &st), FK_RESULT_INVALID_ARGUMENT);
  c = fk_stream_config_default();
  CHECK_EQ(fk_stream_create(&c, NULL), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(stream_create_with(c), FK_RESULT_OK);
  c = fk_stream_config_default(); c.version = 99;
  CHECK_EQ(stream_create_with(c), FK_RESULT_VERSION_MISMATCH);
  c = fk_stream_config_default(); c.spectrogram.version = 99;
  CHECK_EQ(stream_create_with(c), FK_RESULT_VERSION_MISMATCH);
  c = fk_stream_config_default(); c.input = (fk_spec_kind)9;
  CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
  c = fk_stream_config_default(); c.method = (fk_stream_method)9;
  CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
  for (i = 0; i < 3; ++i) { /* the same limits hold whatever the input kind */
    const fk_spec_kind kind = (fk_spec_kind)i;
    c = fk_stream_config_default(); c.input = kind; c.spectrogram.n_fft = 0;
    CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
    c = fk_stream_config_default(); c.input = kind; c.spectrogram.n_fft = 1001;
    CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
    c = fk_stream_config_default(); c.input = kind; c.spectrogram.n_fft = 1 << 20;
    CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
    c = fk_stream_config_default(); c.input = kind; c.spectrogram.hop = 0;
    CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
    c = fk_stream_config_default(); c.input = kind; c.spectrogram.hop = 513;
    CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
    c = fk_stream_config_default(); c.input = kind; c.spectrogram.sample_rate = (float)NAN;
    CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
    /* The header documents 1000..384000 Hz for every use of the config. */
    c = fk_stream_config_default(); c.input = kind; c.spectrogram.sample_rate = 0.0f;
    CHECK_EQ(stream_create_with(c), FK_RESULT_INVALID_ARGUMENT);
  }

  for (mi = 0; mi < 2; ++mi) {
    const fk_stream_method m = mi == 0 ? FK_STREAM_METHOD_RTPGHI : FK_STREAM_METHOD_RANDOM;
    test_stream_kind(FK_SPEC_KIND_LOG_MEL, m, lm, N_MELS, (float)NAN, FK_RESULT_NON_FINITE);
    test_stream_kind(FK_SPEC_KIND_LOG_MEL, m, lm, N_MELS, (float)INFINITY, FK_RESULT_NON_FINITE);
    test_stream_kind(FK_SPEC_KIND_MEL, m, mel, N_MELS, (float)NAN, FK_RESULT_NON_FINITE);
    test_stream_kind(FK_SPEC_KIND_MEL, m, mel, N_MELS, -0.25f, FK_RESULT_NEGATIVE_MAGNITUDE);
    test_stream_kind(FK_SPEC_KIND_LINEAR, m, lin, BINS, (float)NAN, FK_RESULT_NON_FINITE);
    test_stream_kind(FK_SPEC_KIND_LINEAR, m, lin, BINS, -0.25f, FK_RESULT_NEGATIVE_MAGNITUDE);
  }

  /* A log-mel value whose exp overflows is refused by the stream with the same code as
   * fk_synth_render gives it. */
  st = make_stream(FK_SPEC_KIND_LOG_MEL, FK_STREAM_METHOD_RTPGHI, 0);
  if (st) {
    static float out[4 * HOP];
    int32_t w = -1;
    const float saved = lm[N_MELS + 5];
    lm[N_MELS + 5] = 100.0f;
    CHECK_EQ(fk_stream_push(st, lm, 4, out, 4 * HOP, &w), FK_RESULT_INVALID_ARGUMENT);
    CHECK_EQ(w, 0);
    lm[N_MELS + 5] = saved;
    fk_stream_destroy(st);
  }
}

int main(void) {
  test_library();
  test_synth_create();
  test_synth_render();
  test_stream();
  return fk_check_summary("test_c_header");
}

/* The model part of the C ABI (fk_model_*), from C99 as an engine binding uses it, on the
 * shipped default models: argv[1] is the folder holding oneshots.fkm and ambiences.fkm.
 * Load, schema queries, generate and stream, determinism, and every refusal with its code and
 * message: wrong file type, damaged bytes, a control out of range, the wrong mode. Then the
 * whole path a C host takes: a model's frames through fk_synth_render to audio. */
#include <foleykit/foleykit.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static char g_dir[1024];

static void path_of(char* out, size_t n, const char* file) {
  snprintf(out, n, "%s/%s", g_dir, file);
}

static unsigned char* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  unsigned char* buf;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (unsigned char*)malloc((size_t)n);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return buf;
}

static void test_one_shot(void) {
  char path[1200];
  fk_model* m = NULL;
  fk_model_info info;
  fk_model_session* s = NULL;
  float values[256], bad[256];
  float *a, *b, *c, *audio;
  int32_t fa = 0, fb = 0, fc = 0, i, vel, mat, cat, ui;
  int64_t n_out = 0;
  fk_control_info ci;
  fk_synth* synth = NULL;
  double peak = 0.0;

  path_of(path, sizeof path, "oneshots.fkm");
  CHECK_EQ(fk_model_load(path, &m), FK_RESULT_OK);
  if (!m) {
    fprintf(stderr, "cannot load %s: %s\n", path, fk_last_error());
    return;
  }
  CHECK_EQ(fk_model_get_info(m, &info), FK_RESULT_OK);
  CHECK_EQ(info.mode, FK_MODEL_MODE_ONE_SHOT);
  CHECK_EQ(info.family, FK_MODEL_FAMILY_VAE);
  CHECK_EQ(info.spectrogram.n_mels, 80);
  CHECK_EQ(info.spectrogram.hop, 256);
  CHECK(info.max_frames > 0 && info.control_count > 0 && info.control_count <= 256);
  CHECK(info.control_vector_size >= info.control_count);

  cat = fk_model_find_control(m, "category");
  vel = fk_model_find_control(m, "velocity");
  mat = fk_model_find_control(m, "material");
  CHECK(cat >= 0 && vel >= 0 && mat >= 0);
  CHECK_EQ(fk_model_find_control(m, "no such control"), -1);
  CHECK_EQ(fk_model_get_control(m, vel, &ci), FK_RESULT_OK);
  CHECK(!ci.categorical && ci.low < ci.high && strcmp(ci.name, "velocity") == 0);
  CHECK_EQ(fk_model_get_control(m, cat, &ci), FK_RESULT_OK);
  CHECK(ci.categorical && ci.choice_count >= 2);
  ui = fk_model_find_choice(m, cat, "ui");
  CHECK(ui >= 0);
  CHECK(strcmp(fk_model_control_choice(m, cat, ui), "ui") == 0);
  CHECK(fk_model_control_choice(m, cat, 999) == NULL);
  CHECK_EQ(fk_model_get_control(m, info.control_count, &ci), FK_RESULT_INVALID_ARGUMENT);

  CHECK_EQ(fk_model_default_controls(m, values, 256), FK_RESULT_OK);
  CHECK_EQ(fk_model_default_controls(m, values, 1), FK_RESULT_BUFFER_TOO_SMALL);
  values[mat] = (float)fk_model_find_choice(m, mat, "metal");
  values[vel] = 6.0f;

  CHECK_EQ(fk_model_session_create(m, &s), FK_RESULT_OK);
  a = (float*)malloc(sizeof(float) * (size_t)info.max_frames * 80);
  b = (float*)malloc(sizeof(float) * (size_t)info.max_frames * 80);
  c = (float*)malloc(sizeof(float) * (size_t)info.max_frames * 80);
  CHECK_EQ(fk_model_generate(s, values, info.control_count, 7, a, info.max_frames, &fa),
           FK_RESULT_OK);
  CHECK_EQ(fk_model_generate(s, values, info.control_count, 7, b, info.max_frames, &fb),
           FK_RESULT_OK);
  CHECK_EQ(fk_model_generate(s, values, info.control_count, 8, c, info.max_frames, &fc),
           FK_RESULT_OK);
  CHECK(fa >= 1 && fa <= info.max_frames);
  CHECK_EQ(fa, fb);
  CHECK(memcmp(a, b, sizeof(float) * (size_t)fa * 80) == 0); /* same seed, same frames */
  CHECK(fc != fa || memcmp(a, c, sizeof(float) * (size_t)fa * 80) != 0);
  for (i = 0; i < fa * 80; ++i) CHECK(isfinite(a[i]) && a[i] >= -12.0f && a[i] < 10.0f);

  /* refusals: each names its problem and writes no frames */
  memcpy(bad, values, sizeof values);
  bad[vel] = 1000.0f;
  CHECK_EQ(fk_model_generate(s, bad, info.control_count, 7, c, info.max_frames, &fc),
           FK_RESULT_INVALID_ARGUMENT);
  CHECK(strstr(fk_last_error(), "velocity") != NULL);
  CHECK_EQ(fc, 0);
  bad[vel] = NAN;
  CHECK_EQ(fk_model_generate(s, bad, info.control_count, 7, c, info.max_frames, &fc),
           FK_RESULT_INVALID_ARGUMENT);
  memcpy(bad, values, sizeof values);
  bad[mat] = 99.0f;
  CHECK_EQ(fk_model_generate(s, bad, info.control_count, 7, c, info.max_frames, &fc),
           FK_RESULT_INVALID_ARGUMENT);
  CHECK(strstr(fk_last_error(), "material") != NULL);
  CHECK_EQ(fk_model_generate(s, values, info.control_count - 1, 7, c, info.max_frames, &fc),
           FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_model_generate(s, values, info.control_count, 7, c, info.max_frames - 1, &fc),
           FK_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ(fk_model_generate(s, NULL, 0, 7, c, info.max_frames, &fc), FK_RESULT_OK);
  CHECK_EQ(fk_model_stream_reset(s, values, info.control_count, 1), FK_RESULT_UNSUPPORTED);

  /* the whole path: frames -> audio */
  {
    fk_synth_config cfg = info.spectrogram;
    CHECK_EQ(fk_synth_create(&cfg, &synth), FK_RESULT_OK);
  }
  n_out = fk_synth_output_length(synth, fa);
  audio = (float*)malloc(sizeof(float) * (size_t)(n_out > 0 ? n_out : 1));
  CHECK_EQ(fk_synth_render(synth, a, 80, fa, FK_SPEC_KIND_LOG_MEL, FK_PHASE_METHOD_PGHI, 0, 7,
                           audio, n_out, &n_out),
           FK_RESULT_OK);
  for (i = 0; i < n_out; ++i) peak = fabs(audio[i]) > peak ? fabs(audio[i]) : peak;
  printf("  one-shot metal impact: %d frames, %lld samples, peak %.3f\n", (int)fa,
         (long long)n_out, peak);
  CHECK(peak > 1e-3 && peak < 10.0);

  fk_synth_destroy(synth);
  free(audio);
  free(a);
  free(b);
  free(c);
  fk_model_session_destroy(s);
  fk_model_destroy(m);
}

static void test_stream(void) {
  char path[1200];
  fk_model* m = NULL;
  fk_model_info info;
  fk_model_session *s1 = NULL, *s2 = NULL;
  float values[64], x[16 * 80], y[16 * 80];
  int32_t k, i;

  path_of(path, sizeof path, "ambiences.fkm");
  CHECK_EQ(fk_model_load(path, &m), FK_RESULT_OK);
  if (!m) return;
  CHECK_EQ(fk_model_get_info(m, &info), FK_RESULT_OK);
  CHECK_EQ(info.mode, FK_MODEL_MODE_STEP);
  CHECK_EQ(info.family, FK_MODEL_FAMILY_TRANSFORMER);
  CHECK(info.window_frames > 0);
  CHECK_EQ(fk_model_default_controls(m, values, 64), FK_RESULT_OK);
  CHECK_EQ(fk_model_session_create(m, &s1), FK_RESULT_OK);
  CHECK_EQ(fk_model_session_create(m, &s2), FK_RESULT_OK);
  CHECK_EQ(fk_model_stream_next(s1, x, 1), FK_RESULT_INVALID_ARGUMENT); /* before reset */
  CHECK_EQ(fk_model_stream_reset(s1, values, info.control_count, 5), FK_RESULT_OK);
  CHECK_EQ(fk_model_stream_reset(s2, values, info.control_count, 5), FK_RESULT_OK);
  /* 16 frames at once or one by one: the same frames */
  CHECK_EQ(fk_model_stream_next(s1, x, 16), FK_RESULT_OK);
  for (k = 0; k < 16; ++k) CHECK_EQ(fk_model_stream_next(s2, y + k * 80, 1), FK_RESULT_OK);
  CHECK(memcmp(x, y, sizeof x) == 0);
  for (i = 0; i < 16 * 80; ++i) CHECK(isfinite(x[i]));
  values[fk_model_find_control(m, "intensity")] = 2.0f;
  CHECK_EQ(fk_model_stream_set_controls(s1, values, info.control_count),
           FK_RESULT_INVALID_ARGUMENT);
  CHECK(strstr(fk_last_error(), "intensity") != NULL);
  CHECK_EQ(fk_model_generate(s1, NULL, 0, 0, x, 16, &k), FK_RESULT_UNSUPPORTED);
  fk_model_session_destroy(s1);
  fk_model_session_destroy(s2);
  fk_model_destroy(m);
}

static void test_refusals(void) {
  char path[1200];
  fk_model* m = NULL;
  unsigned char* data;
  size_t size = 0, cut;

  CHECK_EQ(fk_model_load(NULL, &m), FK_RESULT_INVALID_ARGUMENT);
  path_of(path, sizeof path, "oneshots.onnx");
  CHECK_EQ(fk_model_load(path, &m), FK_RESULT_UNSUPPORTED);
  CHECK(strstr(fk_last_error(), ".fkm") != NULL);
  CHECK(m == NULL);
  path_of(path, sizeof path, "no-such-model.fkm");
  CHECK_EQ(fk_model_load(path, &m), FK_RESULT_IO);
  CHECK(m == NULL);

  path_of(path, sizeof path, "oneshots.fkm");
  data = read_all(path, &size);
  CHECK(data != NULL && size > 1000);
  if (!data) return;
  CHECK_EQ(fk_model_load_memory(data, size, &m), FK_RESULT_OK);
  fk_model_destroy(m);
  m = NULL;
  for (cut = 0; cut < size; cut += size / 37 + 1) {
    CHECK_EQ(fk_model_load_memory(data, cut, &m), FK_RESULT_MODEL_INVALID);
    CHECK(m == NULL);
  }
  data[size / 3] ^= 0x40; /* one flipped bit in the weights */
  CHECK_EQ(fk_model_load_memory(data, size, &m), FK_RESULT_MODEL_INVALID);
  CHECK(m == NULL);
  CHECK(strlen(fk_last_error()) > 0);
  free(data);
  fk_model_destroy(NULL);
  fk_model_session_destroy(NULL);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_c_model MODEL_DIR\n");
    return 2;
  }
  snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
  test_one_shot();
  test_stream();
  test_refusals();
  return fk_check_summary("test_c_model");
}

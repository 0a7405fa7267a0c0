/* engine_demo: the engine driven the way a game drives it, from plain C through the public
 * header only. Loads the default models, then for five seconds: footsteps alternating left
 * and right over changing surfaces, a few impacts, and rain whose intensity rises until it
 * fades out. Writes the mix as a 16-bit stereo WAV.
 *
 *   engine_demo <folder with oneshots.fkm and ambiences.fkm> <out.wav>
 *
 * It renders offline, faster than real time: fk_engine_sync before each block stands in for
 * the time a real audio callback would leave the workers. In a game, call fk_engine_render
 * from the audio callback and nothing else there. Exits non-zero if anything fails or the
 * result is silent. */
#include <foleykit/foleykit.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 256
#define SECONDS 5.0
#define MAX_CONTROLS 64

static int fail(const char* what, fk_result r) {
  fprintf(stderr, "engine_demo: %s: %s (%s)\n", what, fk_result_string(r), fk_last_error());
  return 1;
}

/* Control values by name over the model's defaults. */
static void set_choice(const fk_model* m, float* v, const char* control, const char* choice) {
  int32_t c = fk_model_find_control(m, control);
  int32_t k = c >= 0 ? fk_model_find_choice(m, c, choice) : -1;
  if (k >= 0) v[c] = (float)k;
}

static void set_number(const fk_model* m, float* v, const char* control, float value) {
  int32_t c = fk_model_find_control(m, control);
  if (c >= 0) v[c] = value;
}

static void put_u32(FILE* f, uint32_t x) {
  unsigned char b[4];
  b[0] = (unsigned char)(x & 0xff);
  b[1] = (unsigned char)((x >> 8) & 0xff);
  b[2] = (unsigned char)((x >> 16) & 0xff);
  b[3] = (unsigned char)((x >> 24) & 0xff);
  fwrite(b, 1, 4, f);
}

static void put_u16(FILE* f, uint16_t x) {
  unsigned char b[2];
  b[0] = (unsigned char)(x & 0xff);
  b[1] = (unsigned char)((x >> 8) & 0xff);
  fwrite(b, 1, 2, f);
}

/* 16-bit PCM, little-endian whatever the machine. */
static int write_wav(const char* path, const float* x, size_t frames, int channels, int rate) {
  FILE* f = fopen(path, "wb");
  size_t i, n = frames * (size_t)channels;
  uint32_t bytes = (uint32_t)(n * 2);
  if (!f) return 0;
  fwrite("RIFF", 1, 4, f);
  put_u32(f, 36 + bytes);
  fwrite("WAVEfmt ", 1, 8, f);
  put_u32(f, 16);
  put_u16(f, 1); /* PCM */
  put_u16(f, (uint16_t)channels);
  put_u32(f, (uint32_t)rate);
  put_u32(f, (uint32_t)(rate * channels * 2));
  put_u16(f, (uint16_t)(channels * 2));
  put_u16(f, 16);
  fwrite("data", 1, 4, f);
  put_u32(f, bytes);
  for (i = 0; i < n; ++i) {
    float s = x[i] > 1.0f ? 1.0f : (x[i] < -1.0f ? -1.0f : x[i]);
    put_u16(f, (uint16_t)(int16_t)lrintf(s * 32767.0f));
  }
  return fclose(f) == 0;
}

int main(int argc, char** argv) {
  char path[2048];
  fk_model *shots = NULL, *amb = NULL;
  fk_engine* engine = NULL;
  fk_engine_config config = fk_engine_config_default();
  fk_model_info si, ai;
  int32_t shot_id = -1, amb_id = -1;
  float step[MAX_CONTROLS], hit[MAX_CONTROLS], rain[MAX_CONTROLS];
  fk_voice_id rain_voice = 0, voice = 0;
  const size_t blocks = (size_t)(SECONDS * 48000 / BLOCK);
  float* mix;
  size_t b, i;
  double energy = 0.0, peak = 0.0;
  int started = 0, ended = 0, stolen = 0, footsteps = 0;
  fk_engine_event ev;
  fk_engine_stats stats;
  fk_result r;
  static const char* surfaces[] = {"gravel", "wood", "concrete", "snow"};

  if (argc < 3) {
    fprintf(stderr, "usage: engine_demo <models folder> <out.wav>\n");
    return 2;
  }
  snprintf(path, sizeof path, "%s/oneshots.fkm", argv[1]);
  if ((r = fk_model_load(path, &shots)) != FK_RESULT_OK) return fail(path, r);
  snprintf(path, sizeof path, "%s/ambiences.fkm", argv[1]);
  if ((r = fk_model_load(path, &amb)) != FK_RESULT_OK) return fail(path, r);
  fk_model_get_info(shots, &si);
  fk_model_get_info(amb, &ai);
  if (si.control_count > MAX_CONTROLS || ai.control_count > MAX_CONTROLS) return fail("schema", FK_RESULT_UNSUPPORTED);

  config.channels = 2;
  config.max_block_frames = BLOCK;
  config.sample_rate = (int32_t)si.spectrogram.sample_rate;
  if ((r = fk_engine_create(&config, &engine)) != FK_RESULT_OK) return fail("fk_engine_create", r);
  if ((r = fk_engine_add_model(engine, shots, &shot_id)) != FK_RESULT_OK) return fail("add oneshots", r);
  if ((r = fk_engine_add_model(engine, amb, &amb_id)) != FK_RESULT_OK) return fail("add ambiences", r);

  fk_model_default_controls(shots, step, MAX_CONTROLS);
  set_choice(shots, step, "category", "footstep");
  fk_model_default_controls(shots, hit, MAX_CONTROLS);
  set_choice(shots, hit, "category", "impact");
  fk_model_default_controls(amb, rain, MAX_CONTROLS);
  set_choice(amb, rain, "category", "rain");
  set_number(amb, rain, "intensity", 0.1f);
  if ((r = fk_engine_start(engine, amb_id, rain, ai.control_count, 2024, 0.8f, 0.0f, FK_ENGINE_QUALITY_AUTO,
                           &rain_voice)) != FK_RESULT_OK)
    return fail("start rain", r);

  mix = (float*)calloc(blocks * BLOCK * 2, sizeof(float));
  if (!mix) return fail("calloc", FK_RESULT_OUT_OF_MEMORY);
  for (b = 0; b < blocks; ++b) {
    const double t0 = (double)(b * BLOCK) / 48000.0, t1 = (double)((b + 1) * BLOCK) / 48000.0;
    /* Footsteps every 0.5 s from 0.25 s, left and right feet, new surface every four. */
    if (floor((t1 - 0.25) / 0.5) > floor((t0 - 0.25) / 0.5) && t1 >= 0.25) {
      set_choice(shots, step, "surface", surfaces[(footsteps / 4) % 4]);
      set_number(shots, step, "force", 0.4f + 0.1f * (float)(footsteps % 3));
      r = fk_engine_trigger(engine, shot_id, step, si.control_count, (uint64_t)(100 + footsteps), 0.9f,
                            footsteps % 2 ? 0.35f : -0.35f, FK_ENGINE_QUALITY_AUTO, &voice);
      if (r != FK_RESULT_OK) return fail("footstep", r);
      ++footsteps;
    }
    /* Impacts: metal at 1.0 s, a big wooden crate at 2.2 s, stone at 3.4 s. */
    if ((t0 < 1.0 && t1 >= 1.0) || (t0 < 2.2 && t1 >= 2.2) || (t0 < 3.4 && t1 >= 3.4)) {
      const int which = t1 < 1.5 ? 0 : (t1 < 3.0 ? 1 : 2);
      set_choice(shots, hit, "material", which == 0 ? "metal" : (which == 1 ? "wood" : "stone"));
      set_number(shots, hit, "velocity", which == 1 ? 8.0f : 4.0f);
      set_number(shots, hit, "impact.size", which == 1 ? 1.2f : 0.3f);
      r = fk_engine_trigger(engine, shot_id, hit, si.control_count, (uint64_t)(7 + which), 1.0f,
                            which == 2 ? 0.6f : -0.1f, FK_ENGINE_QUALITY_HIGH, &voice);
      if (r != FK_RESULT_OK) return fail("impact", r);
    }
    /* The rain gets heavier every 100 ms, then fades out over 400 ms from 4.5 s. */
    if (floor(t1 / 0.1) > floor(t0 / 0.1) && t1 < 4.5) {
      set_number(amb, rain, "intensity", (float)(0.1 + 0.9 * t1 / 4.5));
      if ((r = fk_engine_set_controls(engine, rain_voice, rain, ai.control_count)) != FK_RESULT_OK)
        return fail("rain intensity", r);
    }
    if (t0 < 4.5 && t1 >= 4.5 && (r = fk_engine_stop(engine, rain_voice, 400.0f)) != FK_RESULT_OK)
      return fail("stop rain", r);

    if (!fk_engine_sync(engine, 10000)) return fail("fk_engine_sync timed out", FK_RESULT_INTERNAL);
    if ((r = fk_engine_render(engine, mix + b * BLOCK * 2, BLOCK)) != FK_RESULT_OK) return fail("render", r);
    while (fk_engine_poll_event(engine, &ev)) {
      started += ev.type == FK_ENGINE_EVENT_VOICE_STARTED;
      ended += ev.type == FK_ENGINE_EVENT_VOICE_ENDED;
      stolen += ev.type == FK_ENGINE_EVENT_VOICE_STOLEN;
    }
  }
  fk_engine_get_stats(engine, &stats);
  for (i = 0; i < blocks * BLOCK * 2; ++i) {
    energy += (double)mix[i] * mix[i];
    if (fabs(mix[i]) > peak) peak = fabs(mix[i]);
  }
  printf("engine_demo: %.1f s, %d footsteps, %d voices started, %d ended, %d stolen, %llu underruns; "
         "rms %.4f, peak %.3f -> %s\n",
         SECONDS, footsteps, started, ended, stolen, (unsigned long long)stats.underruns,
         sqrt(energy / (double)(blocks * BLOCK * 2)), peak, argv[2]);
  if (!write_wav(argv[2], mix, blocks * BLOCK, 2, config.sample_rate)) return fail(argv[2], FK_RESULT_IO);
  free(mix);
  fk_engine_destroy(engine);
  /* The engine kept its own references; the host's handles go whenever it likes. */
  fk_model_destroy(shots);
  fk_model_destroy(amb);
  return energy > 0.0 && sqrt(energy / (double)(blocks * BLOCK * 2)) > 1e-3 ? 0 : 1;
}

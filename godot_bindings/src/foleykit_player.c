/*
 * FoleyKitPlayer: a Node that owns a FoleyKit engine (fk_engine, with a one-shot and/or an
 * ambience model; see fkgd_sound.h) and feeds Godot's audio.
 *
 * Output: an AudioStreamGenerator played by an internal AudioStreamPlayer child (or by any
 * AudioStreamPlayer/2D/3D given to set_output_player). Every process frame (internal
 * processing, so scripts cannot switch it off by accident) the node polls the engine's events
 * (signals engine_event / voice_finished) and tops the generator's buffer up to `latency`
 * seconds with fk_engine_render's stereo mix (fkgd_sound_mix), as Vector2 frames through
 * AudioStreamGeneratorPlayback.push_buffer. When no voice is live it pushes nothing, so a new
 * sound starts within one frame.
 *
 * Errors (bad paths, corrupt models, unknown controls, values out of range, a library
 * without the model runtime) go to Godot's error log through print_error, are kept for
 * get_last_error(), and make the call return false / an empty value. Nothing here aborts.
 *
 * Methods are registered with both a Variant call and a ptrcall; both funnel into one
 * implementation per method that takes exactly-typed Variants (see dispatch below).
 */
#include "foleykit_player.h"

#include "fk_model_weak.h"
#include "fkgd_sound.h"
#include "gdx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  NOTIFICATION_POSTINITIALIZE = 0,
  NOTIFICATION_ENTER_TREE = 10,
  NOTIFICATION_EXIT_TREE = 11,
  NOTIFICATION_READY = 13,
  NOTIFICATION_INTERNAL_PROCESS = 25,
};
enum { INTERNAL_MODE_FRONT = 1, MIX_RATE_CUSTOM = 2 };
enum { PROPERTY_HINT_NONE = 0, PROPERTY_HINT_RANGE = 1, PROPERTY_HINT_FILE = 13 };
enum { PROPERTY_USAGE_DEFAULT = 6 };

#define GENERATOR_SECONDS 0.5 /* ring buffer of the AudioStreamGenerator */
#define MAX_LATENCY 0.4       /* the most the adaptation queues (< GENERATOR_SECONDS) */
#define MAX_PUSH 16384        /* frames mixed per push */
#define ERR_CAP 1024

/* FileAccess static methods (hashes from extension_api.json; stable across 4.x). */
#define HASH_FILEACCESS_GET_FILE_AS_BYTES 659035735
#define HASH_FILEACCESS_GET_OPEN_ERROR 166280745

typedef struct fkgd_player {
  GDExtensionObjectPtr owner;
  gdx_var self;      /* the owner Node as a Variant */
  gdx_var generator; /* AudioStreamGenerator (holds a reference) */
  gdx_var playback;  /* AudioStreamGeneratorPlayback, or nil until playing */
  gdx_var pushbuf;   /* PackedVector2Array reused for push_buffer */
  GDObjectInstanceID internal_player_id, output_id;
  fkgd_sound* sound;
  float* mix;
  float generator_rate;
  int64_t capacity; /* frames the generator holds */
  int64_t frames_pushed;
  double latency;      /* what the user asked for */
  double eff_latency;  /* raised when the driver drains the generator faster (big blocks) */
  int64_t last_skips;
  bool was_busy;
  bool in_tree;
  char model_path[1024];
  char last_error[ERR_CAP];
} fkgd_player;

static int g_vector2_bytes = 8; /* sizeof(Vector2): 8, or 16 in double-precision builds */

/* ---- errors ---------------------------------------------------------------------------- */

static void clear_error(fkgd_player* p) { p->last_error[0] = '\0'; }

static void report(fkgd_player* p, const char* func, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(fkgd_player* p, const char* func, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->last_error, sizeof p->last_error, fmt, ap);
  va_end(ap);
  gdx_error_at(func, __FILE__, line, "FoleyKitPlayer: %s", p->last_error);
}
#define REPORT(p, ...) report((p), __func__, __LINE__, __VA_ARGS__)

/* ---- output ---------------------------------------------------------------------------- */

static bool output_var(fkgd_player* p, gdx_var* out) {
  GDObjectInstanceID id = p->output_id ? p->output_id : p->internal_player_id;
  GDExtensionObjectPtr o = id ? gdx.object_get_instance_from_id(id) : NULL;
  if (!o && p->output_id) { /* the output the user gave was freed: back to ours */
    p->output_id = 0;
    o = p->internal_player_id ? gdx.object_get_instance_from_id(p->internal_player_id) : NULL;
  }
  if (!o) return false;
  gdx_var_object(out, o);
  return true;
}

static bool var_call_bool(gdx_var* self, const gdx_sn* m) {
  gdx_var r;
  if (!gdx_call0(self, m, &r)) return false;
  bool b = gdx_var_type(&r) == GDEXTENSION_VARIANT_TYPE_BOOL && gdx_var_get_bool(&r);
  gdx_var_free(&r);
  return b;
}

static int64_t var_call_int(gdx_var* self, const gdx_sn* m, int64_t fallback) {
  gdx_var r;
  if (!gdx_call0(self, m, &r)) return fallback;
  int64_t i = gdx_var_type(&r) == GDEXTENSION_VARIANT_TYPE_INT ? gdx_var_get_int(&r) : fallback;
  gdx_var_free(&r);
  return i;
}

static void drop_playback(fkgd_player* p) {
  gdx_var_free(&p->playback);
  gdx_var_nil(&p->playback);
  p->capacity = 0;
  p->last_skips = 0;
  p->was_busy = false;
}

static void set_generator_rate(fkgd_player* p, float rate) {
  gdx_var v;
  if (gdx.variant_has_method(&p->generator, &gdx.sn.set_mix_rate_mode)) { /* 4.4+ */
    gdx_var_int(&v, MIX_RATE_CUSTOM);
    gdx_call1(&p->generator, &gdx.sn.set_mix_rate_mode, &v, NULL);
    gdx_var_free(&v);
  }
  gdx_var_float(&v, rate);
  gdx_call1(&p->generator, &gdx.sn.set_mix_rate, &v, NULL);
  gdx_var_free(&v);
  p->generator_rate = rate;
}

/* Makes sure the output plays our generator and that we hold its playback. */
static bool ensure_playing(fkgd_player* p) {
  if (!p->in_tree) return false;
  float rate = fkgd_sound_sample_rate(p->sound);
  if (rate > 0 && rate != p->generator_rate) { /* a model with another rate: restart */
    drop_playback(p);
    gdx_var out;
    if (output_var(p, &out)) {
      gdx_call0(&out, &gdx.sn.stop, NULL);
      gdx_var_free(&out);
    }
    set_generator_rate(p, rate);
  }
  gdx_var out;
  if (!output_var(p, &out)) return false;
  bool ok = false;
  if (gdx_var_type(&p->playback) != GDEXTENSION_VARIANT_TYPE_NIL && var_call_bool(&out, &gdx.sn.is_playing)) {
    ok = true;
  } else if (var_call_bool(&out, &gdx.sn.is_inside_tree)) {
    drop_playback(p);
    gdx_var stream;
    bool ours = false;
    if (gdx_call0(&out, &gdx.sn.get_stream, &stream)) {
      ours = gdx_var_get_object(&stream) == gdx_var_get_object(&p->generator);
      gdx_var_free(&stream);
    }
    if (!ours) gdx_call1(&out, &gdx.sn.set_stream, &p->generator, NULL);
    gdx_call0(&out, &gdx.sn.play, NULL);
    gdx_var pb;
    if (gdx_call0(&out, &gdx.sn.get_stream_playback, &pb)) {
      if (gdx_var_type(&pb) == GDEXTENSION_VARIANT_TYPE_OBJECT && gdx_var_get_object(&pb)) {
        gdx_var_free(&p->playback);
        p->playback = pb;
        p->capacity = var_call_int(&p->playback, &gdx.sn.get_frames_available, 0);
        ok = p->capacity > 0;
      } else {
        gdx_var_free(&pb);
      }
    }
  }
  gdx_var_free(&out);
  return ok;
}

/* Tops the generator up to `latency` seconds. Returns the frames pushed. */
static void emit_events(fkgd_player* p);

static int64_t fill(fkgd_player* p) {
  fkgd_sound_pump(p->sound);
  emit_events(p);
  if (!fkgd_sound_busy(p->sound)) {
    p->was_busy = false;
    return 0;
  }
  if (!ensure_playing(p)) return 0;
  int64_t avail = var_call_int(&p->playback, &gdx.sn.get_frames_available, -1);
  if (avail < 0) {
    drop_playback(p);
    return 0;
  }
  /* The generator ran dry while we were feeding it: the driver mixes bigger blocks than
   * `latency` covers (Godot's Dummy driver: 4096 frames). Queue more from now on. */
  int64_t skips = var_call_int(&p->playback, &gdx.sn.get_skips, 0);
  if (p->eff_latency < p->latency) p->eff_latency = p->latency;
  if (p->was_busy && skips > p->last_skips && p->eff_latency < MAX_LATENCY) {
    p->eff_latency = p->eff_latency * 1.5 > MAX_LATENCY ? MAX_LATENCY : p->eff_latency * 1.5;
    if (p->eff_latency >= MAX_LATENCY)
      GDX_WARNING("FoleyKitPlayer: the audio driver keeps draining the buffer; queueing %.0f ms",
                  p->eff_latency * 1000.0);
  }
  p->last_skips = skips;
  p->was_busy = true;
  int64_t queued = p->capacity - avail;
  int64_t target = (int64_t)(p->eff_latency * p->generator_rate);
  if (target > p->capacity - 1) target = p->capacity - 1;
  int64_t n = target - queued;
  if (n > avail) n = avail;
  if (n > MAX_PUSH) n = MAX_PUSH;
  if (n <= 0) return 0;
  if (!p->mix) {
    p->mix = (float*)malloc(sizeof(float) * FKGD_CHANNELS * MAX_PUSH);
    if (!p->mix) return 0;
  }
  char err[ERR_CAP];
  if (!fkgd_sound_mix(p->sound, p->mix, (int32_t)n, err, sizeof err)) {
    REPORT(p, "mixing failed: %s", err);
  }
  gdx_var len;
  gdx_var_int(&len, n);
  gdx_call1(&p->pushbuf, &gdx.sn.resize, &len, NULL);
  gdx_var_free(&len);
  float* dst = gdx_packed_vector2_ptr(&p->pushbuf);
  if (!dst) return 0;
  if (g_vector2_bytes == 8) {
    memcpy(dst, p->mix, sizeof(float) * 2 * (size_t)n); /* interleaved stereo = Vector2s */
  } else {
    double* d = (double*)(void*)dst;
    for (int64_t i = 0; i < 2 * n; ++i) d[i] = (double)p->mix[i];
  }
  gdx_call1(&p->playback, &gdx.sn.push_buffer, &p->pushbuf, NULL);
  p->frames_pushed += n;
  return n;
}

/* ---- controls: Dictionary -> floats ----------------------------------------------------- */

static void list_controls(const fk_model* m, int32_t nc, char* buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (int32_t i = 0; i < nc && used + 1 < cap; ++i) {
    fk_control_info ci;
    if (fk_model_get_control(m, i, &ci) != FK_RESULT_OK) continue;
    int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", ci.name);
    if (w < 0) break;
    used += (size_t)w;
  }
}

static void list_choices(const fk_model* m, int32_t c, int32_t n, char* buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (int32_t i = 0; i < n && used + 1 < cap; ++i) {
    const char* ch = fk_model_control_choice(m, c, i);
    int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", ch ? ch : "?");
    if (w < 0) break;
    used += (size_t)w;
  }
}

/* values := base, then every entry of dict applied. false (and a report) on the first bad one. */
static bool controls_from_dict(fkgd_player* p, const gdx_var* dict, const float* base,
                               float* values) {
  const fk_model* m = fkgd_sound_model(p->sound);
  const fk_model_info* info = fkgd_sound_info(p->sound);
  const int32_t nc = info->control_count;
  if (nc > 0) memcpy(values, base, sizeof(float) * (size_t)nc);
  if (gdx_var_type(dict) == GDEXTENSION_VARIANT_TYPE_NIL) return true;
  if (gdx_var_type(dict) != GDEXTENSION_VARIANT_TYPE_DICTIONARY) {
    REPORT(p, "controls must be a Dictionary, got %s", gdx_type_name(gdx_var_type(dict)));
    return false;
  }
  gdx_var keys;
  if (!gdx_call0((gdx_var*)dict, &gdx.sn.keys, &keys)) {
    REPORT(p, "cannot read the controls Dictionary");
    return false;
  }
  int64_t n = gdx_size(&keys);
  bool ok = true;
  char list[768];
  for (int64_t i = 0; ok && i < n; ++i) {
    gdx_var key, val;
    GDExtensionBool valid = 0, oob = 0;
    gdx.variant_get_indexed(&keys, i, &key, &valid, &oob);
    if (!valid || oob) {
      gdx_var_free(&key);
      continue;
    }
    char name[256];
    GDExtensionVariantType kt = gdx_var_type(&key);
    gdx_var_utf8(&key, name, sizeof name);
    if (kt != GDEXTENSION_VARIANT_TYPE_STRING && kt != GDEXTENSION_VARIANT_TYPE_STRING_NAME) {
      REPORT(p, "control names must be Strings, got %s %s", gdx_type_name(kt), name);
      gdx_var_free(&key);
      ok = false;
      break;
    }
    int32_t idx = fk_model_find_control(m, name);
    if (idx < 0) {
      list_controls(m, nc, list, sizeof list);
      REPORT(p, "unknown control '%s'; the model has: %s", name, list);
      gdx_var_free(&key);
      ok = false;
      break;
    }
    valid = 0;
    gdx.variant_get_keyed(dict, &key, &val, &valid);
    gdx_var_free(&key);
    fk_control_info ci;
    memset(&ci, 0, sizeof ci);
    fk_model_get_control(m, idx, &ci);
    GDExtensionVariantType vt = gdx_var_type(&val);
    double x = 0;
    if (ci.categorical) {
      if (vt == GDEXTENSION_VARIANT_TYPE_STRING || vt == GDEXTENSION_VARIANT_TYPE_STRING_NAME) {
        char choice[256];
        gdx_var_utf8(&val, choice, sizeof choice);
        int32_t c = fk_model_find_choice(m, idx, choice);
        if (c < 0) {
          list_choices(m, idx, ci.choice_count, list, sizeof list);
          REPORT(p, "control '%s' has no choice '%s'; choices: %s", name, choice, list);
          ok = false;
        } else {
          values[idx] = (float)c;
        }
      } else if (vt == GDEXTENSION_VARIANT_TYPE_INT) {
        int64_t c = gdx_var_get_int(&val);
        if (c < 0 || c >= ci.choice_count) {
          REPORT(p, "control '%s': choice index %lld is out of range [0, %d]", name,
                 (long long)c, (int)ci.choice_count - 1);
          ok = false;
        } else {
          values[idx] = (float)c;
        }
      } else {
        list_choices(m, idx, ci.choice_count, list, sizeof list);
        REPORT(p, "control '%s' takes a choice name (%s) or index, got %s", name, list,
               gdx_type_name(vt));
        ok = false;
      }
    } else if (!gdx_var_number(&val, &x)) {
      REPORT(p, "control '%s' takes a number in [%g, %g], got %s", name, ci.low, ci.high,
             gdx_type_name(vt));
      ok = false;
    } else if (!isfinite(x) || x < ci.low || x > ci.high) {
      REPORT(p, "control '%s' = %g is out of range [%g, %g]%s%s", name, x, ci.low, ci.high,
             ci.unit && *ci.unit ? " " : "", ci.unit ? ci.unit : "");
      ok = false;
    } else {
      values[idx] = (float)x;
    }
    gdx_var_free(&val);
  }
  gdx_var_free(&keys);
  return ok;
}

/* ---- shared checks ---------------------------------------------------------------------- */

static bool need_model(fkgd_player* p, fk_model_mode mode, const char* what) {
  if (!fkgd_model_api_available()) {
    REPORT(p, "%s: this libfoleykit (%s) has no model runtime (fk_model_load); rebuild it", what,
           fk_version());
    return false;
  }
  const fk_model_info* info = fkgd_sound_info(p->sound);
  if (!info) {
    REPORT(p, "%s: no model is loaded (call load_model first)", what);
    return false;
  }
  if (!fkgd_sound_select(p->sound, mode)) {
    REPORT(p, "%s: no %s model is loaded; the loaded model is %s", what,
           mode == FK_MODEL_MODE_ONE_SHOT ? "one-shot" : "ambience",
           info->mode == FK_MODEL_MODE_ONE_SHOT ? "a one-shot model (use play_one_shot)"
                                                : "an ambience model (use start_ambience)");
    return false;
  }
  return true;
}

static float* scratch_values(fkgd_player* p) {
  const fk_model_info* info = fkgd_sound_info(p->sound);
  int32_t n = info && info->control_count > 0 ? info->control_count : 1;
  return (float*)calloc((size_t)n, sizeof(float));
}

/* ---- load ------------------------------------------------------------------------------- */

static bool is_godot_path(const char* path) {
  return strncmp(path, "res://", 6) == 0 || strncmp(path, "user://", 7) == 0 ||
         strncmp(path, "uid://", 6) == 0;
}

static bool load_model(fkgd_player* p, const char* path) {
  clear_error(p);
  char err[ERR_CAP];
  if (!*path) {
    REPORT(p, "load_model: empty path");
    return false;
  }
  if (!fkgd_model_api_available()) {
    REPORT(p, "load_model('%s'): this libfoleykit (%s) has no model runtime (fk_model_load)",
           path, fk_version());
    return false;
  }
  bool ok;
  if (is_godot_path(path)) { /* through Godot's file system: works inside exported packs */
    gdx_var arg, bytes;
    gdx_var_cstr(&arg, path);
    const gdx_var* args[1] = {&arg};
    ok = gdx_call_static("FileAccess", "get_file_as_bytes", HASH_FILEACCESS_GET_FILE_AS_BYTES,
                         args, 1, &bytes);
    gdx_var_free(&arg);
    const uint8_t* data = ok ? gdx_packed_byte_ptr(&bytes) : NULL;
    int64_t size = data ? gdx_size(&bytes) : 0;
    if (!data || size <= 0) {
      gdx_var e;
      int64_t code = -1;
      if (gdx_call_static("FileAccess", "get_open_error", HASH_FILEACCESS_GET_OPEN_ERROR, NULL, 0, &e)) {
        if (gdx_var_type(&e) == GDEXTENSION_VARIANT_TYPE_INT) code = gdx_var_get_int(&e);
        gdx_var_free(&e);
      }
      snprintf(err, sizeof err,
               "cannot read the model '%s' (%s; Godot error %lld). Exported games need "
               "\"*.fkm\" in the export preset's non-resource files filter", path,
               size == 0 && code == 0 ? "empty file" : "missing or unreadable", (long long)code);
      ok = false;
    } else {
      ok = fkgd_sound_load_memory(p->sound, data, (size_t)size, err, sizeof err);
      if (!ok) {
        char msg[ERR_CAP];
        snprintf(msg, sizeof msg, "'%s': %s", path, err);
        memcpy(err, msg, sizeof err);
      }
    }
    gdx_var_free(&bytes); /* gdx_call_static always initialises it */
  } else {
    ok = fkgd_sound_load_file(p->sound, path, err, sizeof err);
  }
  if (!ok) {
    REPORT(p, "load_model failed: %s", err);
    return false;
  }
  snprintf(p->model_path, sizeof p->model_path, "%s", path);
  ensure_playing(p);
  return true;
}

/* ---- methods ---------------------------------------------------------------------------- */
/* Each takes exactly-typed Variant arguments and, when the method returns something,
 * initialises *ret with a value of the declared type. */

typedef void (*fkgd_impl)(fkgd_player* p, const gdx_var* const* a, gdx_var* ret);

static void m_version(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)p, (void)a;
  gdx_var_cstr(ret, fk_version());
}

static void m_has_model_runtime(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)p, (void)a;
  gdx_var_bool(ret, fkgd_model_api_available());
}

static void m_load_model(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  char path[1024];
  gdx_var_utf8(a[0], path, sizeof path);
  gdx_var_bool(ret, load_model(p, path));
}

static void m_unload_model(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a, (void)ret;
  fkgd_sound_unload(p->sound);
  p->model_path[0] = '\0';
}

static void m_is_model_loaded(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_bool(ret, fkgd_sound_model(p->sound) != NULL);
}

static void dict_put_int(gdx_var* d, const char* k, int64_t x) {
  gdx_var v;
  gdx_var_int(&v, x);
  gdx_dict_set_cstr(d, k, &v);
  gdx_var_free(&v);
}
static void dict_put_float(gdx_var* d, const char* k, double x) {
  gdx_var v;
  gdx_var_float(&v, x);
  gdx_dict_set_cstr(d, k, &v);
  gdx_var_free(&v);
}
static void dict_put_str(gdx_var* d, const char* k, const char* s) {
  gdx_var v;
  gdx_var_cstr(&v, s);
  gdx_dict_set_cstr(d, k, &v);
  gdx_var_free(&v);
}
static void dict_put_bool(gdx_var* d, const char* k, bool b) {
  gdx_var v;
  gdx_var_bool(&v, b);
  gdx_dict_set_cstr(d, k, &v);
  gdx_var_free(&v);
}

static void m_get_model_info(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_new(ret, GDEXTENSION_VARIANT_TYPE_DICTIONARY);
  const fk_model_info* in = fkgd_sound_info(p->sound);
  if (!in) return;
  static const char* families[] = {"vae", "gan", "transformer"};
  dict_put_str(ret, "path", p->model_path);
  dict_put_str(ret, "family", in->family >= 0 && in->family <= 2 ? families[in->family] : "?");
  dict_put_str(ret, "mode", in->mode == FK_MODEL_MODE_ONE_SHOT ? "one_shot" : "step");
  dict_put_float(ret, "sample_rate", in->spectrogram.sample_rate);
  dict_put_int(ret, "n_fft", in->spectrogram.n_fft);
  dict_put_int(ret, "hop", in->spectrogram.hop);
  dict_put_int(ret, "n_mels", in->spectrogram.n_mels);
  dict_put_int(ret, "max_frames", in->max_frames);
  dict_put_int(ret, "window_frames", in->window_frames);
  dict_put_int(ret, "control_count", in->control_count);
}

static void m_get_controls(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_new(ret, GDEXTENSION_VARIANT_TYPE_ARRAY);
  const fk_model* m = fkgd_sound_model(p->sound);
  const fk_model_info* in = fkgd_sound_info(p->sound);
  if (!m) return;
  for (int32_t i = 0; i < in->control_count; ++i) {
    fk_control_info ci;
    if (fk_model_get_control(m, i, &ci) != FK_RESULT_OK) continue;
    gdx_var d;
    gdx_var_new(&d, GDEXTENSION_VARIANT_TYPE_DICTIONARY);
    dict_put_str(&d, "name", ci.name);
    dict_put_str(&d, "kind", ci.categorical ? "categorical" : "continuous");
    dict_put_str(&d, "unit", ci.unit ? ci.unit : "");
    if (ci.categorical) {
      gdx_var choices;
      gdx_var_new(&choices, GDEXTENSION_VARIANT_TYPE_PACKED_STRING_ARRAY);
      for (int32_t c = 0; c < ci.choice_count; ++c) {
        gdx_var s;
        const char* ch = fk_model_control_choice(m, i, c);
        gdx_var_cstr(&s, ch ? ch : "");
        gdx_array_push(&choices, &s);
        gdx_var_free(&s);
      }
      gdx_dict_set_cstr(&d, "choices", &choices);
      gdx_var_free(&choices);
      int32_t def = (int32_t)ci.default_value;
      const char* dn = fk_model_control_choice(m, i, def);
      dict_put_str(&d, "default", dn ? dn : "");
      dict_put_int(&d, "default_index", def);
    } else {
      dict_put_float(&d, "low", ci.low);
      dict_put_float(&d, "high", ci.high);
      dict_put_bool(&d, "log", ci.log_scale != 0);
      dict_put_float(&d, "default", ci.default_value);
    }
    gdx_array_push(ret, &d);
    gdx_var_free(&d);
  }
}

static uint64_t seed_of(const gdx_var* v) { return (uint64_t)gdx_var_get_int(v); }

static void m_render_one_shot(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  clear_error(p);
  gdx_var_new(ret, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY);
  if (!need_model(p, FK_MODEL_MODE_ONE_SHOT, "render_one_shot")) return;
  float* values = scratch_values(p);
  if (!values) return;
  if (controls_from_dict(p, a[0], fkgd_sound_default_controls(p->sound), values)) {
    float* wave = NULL;
    int64_t len = 0;
    char err[ERR_CAP];
    if (!fkgd_sound_render_one_shot(p->sound, values, fkgd_sound_info(p->sound)->control_count,
                                    seed_of(a[1]), &wave, &len, err, sizeof err)) {
      REPORT(p, "render_one_shot failed: %s", err);
    } else if (len > 0) {
      gdx_var n;
      gdx_var_int(&n, len);
      gdx_call1(ret, &gdx.sn.resize, &n, NULL);
      gdx_var_free(&n);
      float* dst = gdx_packed_float32_ptr(ret);
      if (dst) memcpy(dst, wave, sizeof(float) * (size_t)len);
    }
    free(wave);
  }
  free(values);
}

/* play_one_shot / trigger: fk_engine_trigger; *voice 0 on failure. */
static fk_voice_id trigger(fkgd_player* p, const gdx_var* const* a, double pan, const char* what) {
  clear_error(p);
  fk_voice_id v = 0;
  if (need_model(p, FK_MODEL_MODE_ONE_SHOT, what)) {
    float* values = scratch_values(p);
    if (values && controls_from_dict(p, a[0], fkgd_sound_default_controls(p->sound), values)) {
      double db = gdx_var_get_float(a[2]);
      float gain = isfinite(db) ? (float)pow(10.0, db / 20.0) : 1.0f;
      if (!isfinite(pan) || pan < -1.0 || pan > 1.0) {
        REPORT(p, "%s: pan %g is out of range -1..1", what, pan);
      } else {
        char err[ERR_CAP];
        if (!fkgd_sound_play_one_shot(p->sound, values, fkgd_sound_info(p->sound)->control_count,
                                      seed_of(a[1]), gain, (float)pan, &v, err, sizeof err))
          REPORT(p, "%s failed: %s", what, err);
        else
          fill(p);
      }
    }
    free(values);
  }
  return v;
}

static void m_play_one_shot(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  gdx_var_bool(ret, trigger(p, a, 0.0, "play_one_shot") != 0);
}

static void m_trigger(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  gdx_var_int(ret, (int64_t)trigger(p, a, gdx_var_get_float(a[3]), "trigger"));
}

static void m_start_ambience(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  clear_error(p);
  bool ok = false;
  if (need_model(p, FK_MODEL_MODE_STEP, "start_ambience")) {
    float* values = scratch_values(p);
    if (values && controls_from_dict(p, a[0], fkgd_sound_default_controls(p->sound), values)) {
      char err[ERR_CAP];
      ok = fkgd_sound_start_ambience(p->sound, values, fkgd_sound_info(p->sound)->control_count,
                                     seed_of(a[1]), err, sizeof err);
      if (!ok) REPORT(p, "start_ambience failed: %s", err);
      else fill(p);
    }
    free(values);
  }
  gdx_var_bool(ret, ok);
}

static void m_set_ambience_controls(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  clear_error(p);
  bool ok = false;
  if (need_model(p, FK_MODEL_MODE_STEP, "set_ambience_controls")) {
    float* values = scratch_values(p);
    if (values && controls_from_dict(p, a[0], fkgd_sound_ambience_controls(p->sound), values)) {
      char err[ERR_CAP];
      ok = fkgd_sound_set_ambience_controls(p->sound, values,
                                            fkgd_sound_info(p->sound)->control_count, err,
                                            sizeof err);
      if (!ok) REPORT(p, "set_ambience_controls failed: %s", err);
    }
    free(values);
  }
  gdx_var_bool(ret, ok);
}

static float fade_ms_of(fkgd_player* p, const gdx_var* v, const char* what) {
  double sec = gdx_var_get_float(v);
  if (!isfinite(sec) || sec < 0.0 || sec > 60.0) {
    REPORT(p, "%s: fade %g s is out of range 0..60; fading over 50 ms", what, sec);
    return 50.0f;
  }
  return (float)(sec * 1000.0);
}

static void m_stop_ambience(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)ret;
  clear_error(p);
  fkgd_sound_stop_ambience(p->sound, fade_ms_of(p, a[0], "stop_ambience"));
}

static void m_stop_voice(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  clear_error(p);
  char err[ERR_CAP];
  fkgd_sound_pump(p->sound);
  float fade = fade_ms_of(p, a[1], "stop_voice");
  bool ok = fkgd_sound_stop_voice(p->sound, (fk_voice_id)gdx_var_get_int(a[0]), fade, err, sizeof err);
  if (!ok) REPORT(p, "stop_voice failed: %s", err);
  gdx_var_bool(ret, ok);
}

static void m_get_ambience_voice(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_int(ret, (int64_t)fkgd_sound_ambience_voice(p->sound));
}

/* Tests / offline: sync, render `frames` stereo frames (interleaved L, R) without Godot's
 * audio. Do not mix with playback through the tree (both pull from the same engine). */
static void m_render_offline(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  clear_error(p);
  gdx_var_new(ret, GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY);
  int64_t frames = gdx_var_get_int(a[0]);
  if (frames <= 0 || frames > 48000 * 600) {
    REPORT(p, "render_offline: %lld frames (1..28800000)", (long long)frames);
    return;
  }
  if (!fkgd_sound_model(p->sound)) {
    REPORT(p, "render_offline: no model is loaded (call load_model first)");
    return;
  }
  gdx_var n;
  gdx_var_int(&n, frames * FKGD_CHANNELS);
  gdx_call1(ret, &gdx.sn.resize, &n, NULL);
  gdx_var_free(&n);
  float* dst = gdx_packed_float32_ptr(ret);
  char err[ERR_CAP];
  if (!dst || !fkgd_sound_render_offline(p->sound, dst, (int32_t)frames, err, sizeof err)) {
    REPORT(p, "render_offline failed: %s", dst ? err : "out of memory");
  }
  emit_events(p);
}

static const char* event_type_name(fk_engine_event_type t) {
  switch (t) {
    case FK_ENGINE_EVENT_VOICE_STARTED: return "voice_started";
    case FK_ENGINE_EVENT_VOICE_ENDED: return "voice_ended";
    case FK_ENGINE_EVENT_VOICE_STOLEN: return "voice_stolen";
    case FK_ENGINE_EVENT_UNDERRUN: return "underrun";
    case FK_ENGINE_EVENT_OVERLOAD: return "overload";
    case FK_ENGINE_EVENT_VOICE_FAILED: return "voice_failed";
    default: return "unknown";
  }
}

/* Emits engine_event(Dictionary) for every event, and voice_finished(voice_id) for every
 * voice that ended. The node may be freed by a handler: nothing may touch p after a call
 * that emits, except through the caller's own return. */
static void emit_events(fkgd_player* p) {
  fk_engine_event ev;
  while (fkgd_sound_take_event(p->sound, &ev)) {
    gdx_var name, d, v;
    gdx.from_string_name(&name, (GDExtensionTypePtr)&gdx.sn.engine_event);
    gdx_var_new(&d, GDEXTENSION_VARIANT_TYPE_DICTIONARY);
    gdx_var_cstr(&v, event_type_name(ev.type));
    gdx_dict_set_cstr(&d, "type", &v);
    gdx_var_free(&v);
    gdx_var_int(&v, (int64_t)ev.voice);
    gdx_dict_set_cstr(&d, "voice", &v);
    gdx_var_free(&v);
    gdx_var_int(&v, ev.model);
    gdx_dict_set_cstr(&d, "model", &v);
    gdx_var_free(&v);
    gdx_var_int(&v, ev.frame);
    gdx_dict_set_cstr(&d, "frame", &v);
    gdx_var_free(&v);
    gdx_var_int(&v, ev.value);
    gdx_dict_set_cstr(&d, "value", &v);
    gdx_var_free(&v);
    const gdx_var* args[2] = {&name, &d};
    gdx_call(&p->self, &gdx.sn.emit_signal, args, 2, NULL);
    gdx_var_free(&name);
    gdx_var_free(&d);
    if (ev.type == FK_ENGINE_EVENT_VOICE_ENDED) {
      gdx.from_string_name(&name, (GDExtensionTypePtr)&gdx.sn.voice_finished);
      gdx_var_int(&v, (int64_t)ev.voice);
      const gdx_var* a2[2] = {&name, &v};
      gdx_call(&p->self, &gdx.sn.emit_signal, a2, 2, NULL);
      gdx_var_free(&name);
      gdx_var_free(&v);
    }
  }
}

static void m_is_ambience_playing(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_bool(ret, fkgd_sound_ambience_playing(p->sound));
}

static void m_stop_all(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a, (void)ret;
  fkgd_sound_stop_all(p->sound);
  /* Silence what is already queued: a generator's buffer cannot be cleared while it plays, so
   * stop the player; the next sound starts a fresh playback. */
  if (gdx_var_type(&p->playback) != GDEXTENSION_VARIANT_TYPE_NIL) {
    gdx_var out;
    if (output_var(p, &out)) {
      gdx_call0(&out, &gdx.sn.stop, NULL);
      gdx_var_free(&out);
    }
    drop_playback(p);
  }
}

static void m_fill(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_int(ret, fill(p));
}

static void m_get_active_voices(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_int(ret, fkgd_sound_active_voices(p->sound));
}

static void m_get_frames_pushed(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_int(ret, p->frames_pushed);
}

static void m_get_last_error(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_cstr(ret, p->last_error);
}

static void m_get_player(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  if (!output_var(p, ret)) gdx_var_object(ret, NULL);
}

static bool is_audio_player(gdx_var* node) {
  static const char* classes[] = {"AudioStreamPlayer", "AudioStreamPlayer2D", "AudioStreamPlayer3D"};
  for (size_t i = 0; i < 3; ++i) {
    gdx_var c, r;
    gdx_var_cstr(&c, classes[i]);
    bool yes = gdx_call1(node, &gdx.sn.is_class, &c, &r) &&
               gdx_var_type(&r) == GDEXTENSION_VARIANT_TYPE_BOOL && gdx_var_get_bool(&r);
    gdx_var_free(&c);
    gdx_var_free(&r); /* variant_call initialises it even when the call fails */
    if (yes) return true;
  }
  return false;
}

static void m_set_output_player(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  clear_error(p);
  GDExtensionObjectPtr o = gdx_var_get_object(a[0]);
  GDObjectInstanceID id = o ? gdx.object_get_instance_id(o) : 0;
  if (o && !is_audio_player((gdx_var*)a[0])) {
    REPORT(p, "set_output_player: needs an AudioStreamPlayer, AudioStreamPlayer2D or "
              "AudioStreamPlayer3D (or null for the internal player)");
    gdx_var_bool(ret, false);
    return;
  }
  if (id == p->internal_player_id) id = 0;
  if (id != p->output_id) {
    gdx_var old;
    if (output_var(p, &old)) {
      gdx_call0(&old, &gdx.sn.stop, NULL);
      gdx_var_free(&old);
    }
    drop_playback(p);
    p->output_id = id;
    ensure_playing(p);
  }
  gdx_var_bool(ret, true);
}

static void m_get_sample_rate(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_float(ret, fkgd_sound_sample_rate(p->sound));
}

static void m_set_model_path(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)ret;
  char path[1024];
  gdx_var_utf8(a[0], path, sizeof path);
  if (strcmp(path, p->model_path) == 0 && fkgd_sound_model(p->sound)) return;
  if (!*path) {
    fkgd_sound_unload(p->sound);
    p->model_path[0] = '\0';
    return;
  }
  if (!load_model(p, path)) /* keep the path so the inspector shows what was asked for */
    snprintf(p->model_path, sizeof p->model_path, "%s", path);
}

static void m_get_model_path(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_cstr(ret, p->model_path);
}

static void m_set_latency(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)ret;
  double s = gdx_var_get_float(a[0]);
  if (!isfinite(s) || s < 0.005 || s > GENERATOR_SECONDS * 0.9) {
    clear_error(p);
    REPORT(p, "latency must be within [0.005, %g] seconds, got %g", GENERATOR_SECONDS * 0.9, s);
    return;
  }
  p->latency = s;
  p->eff_latency = s;
}

static void m_get_latency(fkgd_player* p, const gdx_var* const* a, gdx_var* ret) {
  (void)a;
  gdx_var_float(ret, p->latency);
}

/* ---- the method table ------------------------------------------------------------------- */

#define T_NIL GDEXTENSION_VARIANT_TYPE_NIL
#define T_BOOL GDEXTENSION_VARIANT_TYPE_BOOL
#define T_INT GDEXTENSION_VARIANT_TYPE_INT
#define T_FLOAT GDEXTENSION_VARIANT_TYPE_FLOAT
#define T_STRING GDEXTENSION_VARIANT_TYPE_STRING
#define T_DICT GDEXTENSION_VARIANT_TYPE_DICTIONARY
#define T_ARRAY GDEXTENSION_VARIANT_TYPE_ARRAY
#define T_PF32 GDEXTENSION_VARIANT_TYPE_PACKED_FLOAT32_ARRAY
#define T_OBJECT GDEXTENSION_VARIANT_TYPE_OBJECT
#define MAX_ARGS 4

typedef enum { DEF_NONE = 0, DEF_DICT, DEF_INT0, DEF_FLOAT0, DEF_FADE } def_kind;

typedef struct method_def {
  const char* name;
  fkgd_impl impl;
  GDExtensionVariantType ret;
  const char* ret_class; /* for Object returns */
  int argc;
  GDExtensionVariantType args[MAX_ARGS];
  const char* arg_names[MAX_ARGS];
  const char* arg_classes[MAX_ARGS];
  def_kind defaults[MAX_ARGS]; /* trailing arguments with a default */
  bool is_const;
} method_def;

static const method_def METHODS[] = {
    {"version", m_version, T_STRING, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"has_model_runtime", m_has_model_runtime, T_BOOL, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"load_model", m_load_model, T_BOOL, NULL, 1, {T_STRING}, {"path"}, {0}, {0}, false},
    {"unload_model", m_unload_model, T_NIL, NULL, 0, {0}, {0}, {0}, {0}, false},
    {"is_model_loaded", m_is_model_loaded, T_BOOL, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"get_model_info", m_get_model_info, T_DICT, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"get_controls", m_get_controls, T_ARRAY, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"render_one_shot", m_render_one_shot, T_PF32, NULL, 2, {T_DICT, T_INT},
     {"controls", "seed"}, {0}, {DEF_DICT, DEF_INT0}, false},
    {"play_one_shot", m_play_one_shot, T_BOOL, NULL, 3, {T_DICT, T_INT, T_FLOAT},
     {"controls", "seed", "volume_db"}, {0}, {DEF_DICT, DEF_INT0, DEF_FLOAT0}, false},
    {"start_ambience", m_start_ambience, T_BOOL, NULL, 2, {T_DICT, T_INT},
     {"controls", "seed"}, {0}, {DEF_DICT, DEF_INT0}, false},
    {"set_ambience_controls", m_set_ambience_controls, T_BOOL, NULL, 1, {T_DICT},
     {"controls"}, {0}, {0}, false},
    {"stop_ambience", m_stop_ambience, T_NIL, NULL, 1, {T_FLOAT}, {"fade_seconds"}, {0},
     {DEF_FADE}, false},
    {"trigger", m_trigger, T_INT, NULL, 4, {T_DICT, T_INT, T_FLOAT, T_FLOAT},
     {"controls", "seed", "volume_db", "pan"}, {0}, {DEF_DICT, DEF_INT0, DEF_FLOAT0, DEF_FLOAT0},
     false},
    {"stop_voice", m_stop_voice, T_BOOL, NULL, 2, {T_INT, T_FLOAT}, {"voice_id", "fade_seconds"},
     {0}, {DEF_NONE, DEF_FADE}, false},
    {"get_ambience_voice", m_get_ambience_voice, T_INT, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"render_offline", m_render_offline, T_PF32, NULL, 1, {T_INT}, {"frames"}, {0}, {0}, false},
    {"is_ambience_playing", m_is_ambience_playing, T_BOOL, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"stop_all", m_stop_all, T_NIL, NULL, 0, {0}, {0}, {0}, {0}, false},
    {"fill", m_fill, T_INT, NULL, 0, {0}, {0}, {0}, {0}, false},
    {"get_active_voices", m_get_active_voices, T_INT, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"get_frames_pushed", m_get_frames_pushed, T_INT, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"get_last_error", m_get_last_error, T_STRING, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"get_player", m_get_player, T_OBJECT, "Node", 0, {0}, {0}, {0}, {0}, true},
    {"set_output_player", m_set_output_player, T_BOOL, NULL, 1, {T_OBJECT}, {"player"},
     {"Node"}, {0}, false},
    {"get_sample_rate", m_get_sample_rate, T_FLOAT, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"set_model_path", m_set_model_path, T_NIL, NULL, 1, {T_STRING}, {"path"}, {0}, {0}, false},
    {"get_model_path", m_get_model_path, T_STRING, NULL, 0, {0}, {0}, {0}, {0}, true},
    {"set_latency", m_set_latency, T_NIL, NULL, 1, {T_FLOAT}, {"seconds"}, {0}, {0}, false},
    {"get_latency", m_get_latency, T_FLOAT, NULL, 0, {0}, {0}, {0}, {0}, true},
};
#define N_METHODS ((int)(sizeof METHODS / sizeof METHODS[0]))

/* What registration keeps alive until unload (Godot copies most of it, not all versions). */
typedef struct method_reg {
  const method_def* def;
  gdx_sn name, ret_class, arg_names[MAX_ARGS], arg_classes[MAX_ARGS], empty_sn;
  gdx_str hint;
  gdx_var defaults[MAX_ARGS];
  int n_defaults;
  GDExtensionPropertyInfo ret_info, arg_info[MAX_ARGS];
  GDExtensionClassMethodArgumentMetadata arg_meta[MAX_ARGS];
  GDExtensionVariantPtr default_ptrs[MAX_ARGS];
  GDExtensionVariantFromTypeConstructorFunc arg_from[MAX_ARGS];
  GDExtensionTypeFromVariantConstructorFunc ret_to;
  GDExtensionPtrDestructor ret_destroy;
} method_reg;

static method_reg g_regs[N_METHODS];
static bool g_registered;

/* ---- dispatch --------------------------------------------------------------------------- */

static void call_func(void* userdata, GDExtensionClassInstancePtr instance,
                      const GDExtensionConstVariantPtr* args, GDExtensionInt argc,
                      GDExtensionVariantPtr r_return, GDExtensionCallError* r_error) {
  method_reg* reg = (method_reg*)userdata;
  const method_def* d = reg->def;
  fkgd_player* p = (fkgd_player*)instance;
  r_error->error = GDEXTENSION_CALL_OK;
  if (!p) {
    r_error->error = GDEXTENSION_CALL_ERROR_INSTANCE_IS_NULL;
    return;
  }
  if (argc > d->argc) {
    r_error->error = GDEXTENSION_CALL_ERROR_TOO_MANY_ARGUMENTS;
    r_error->expected = d->argc;
    return;
  }
  if (argc < d->argc - reg->n_defaults) {
    r_error->error = GDEXTENSION_CALL_ERROR_TOO_FEW_ARGUMENTS;
    r_error->expected = d->argc - reg->n_defaults;
    return;
  }
  gdx_var conv[MAX_ARGS];
  const gdx_var* argv[MAX_ARGS];
  int made = 0;
  for (int i = 0; i < d->argc; ++i) {
    const gdx_var* src = i < argc ? (const gdx_var*)args[i]
                                  : &reg->defaults[i - (d->argc - reg->n_defaults)];
    GDExtensionVariantType have = gdx_var_type(src), want = d->args[i];
    bool fine = have == want || (want == T_OBJECT && have == T_NIL);
    if (!fine && !gdx.variant_can_convert_strict(have, want)) {
      r_error->error = GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT;
      r_error->argument = i;
      r_error->expected = want;
      for (int k = 0; k < made; ++k) gdx_var_free(&conv[k]);
      return;
    }
    if (fine) {
      gdx_var_copy(&conv[made], src);
    } else {
      GDExtensionCallError ce;
      memset(&ce, 0, sizeof ce);
      const GDExtensionConstVariantPtr one[1] = {src};
      gdx.variant_construct(want, &conv[made], one, 1, &ce);
      if (ce.error != GDEXTENSION_CALL_OK) {
        r_error->error = GDEXTENSION_CALL_ERROR_INVALID_ARGUMENT;
        r_error->argument = i;
        r_error->expected = want;
        for (int k = 0; k < made; ++k) gdx_var_free(&conv[k]);
        return;
      }
    }
    argv[i] = &conv[made++];
  }
  if (d->ret != T_NIL) {
    gdx_var result;
    d->impl(p, argv, &result);
    /* r_return is Godot's (initialised, Variant-sized) storage: destroy, then copy in. */
    gdx.variant_destroy(r_return);
    gdx.variant_new_copy(r_return, &result);
    gdx_var_free(&result);
  } else {
    d->impl(p, argv, NULL);
  }
  for (int k = 0; k < made; ++k) gdx_var_free(&conv[k]);
}

static void ptrcall_func(void* userdata, GDExtensionClassInstancePtr instance,
                         const GDExtensionConstTypePtr* args, GDExtensionTypePtr r_ret) {
  method_reg* reg = (method_reg*)userdata;
  const method_def* d = reg->def;
  fkgd_player* p = (fkgd_player*)instance;
  if (!p) return;
  gdx_var conv[MAX_ARGS];
  const gdx_var* argv[MAX_ARGS];
  for (int i = 0; i < d->argc; ++i) {
    reg->arg_from[i](&conv[i], (GDExtensionTypePtr)args[i]);
    argv[i] = &conv[i];
  }
  if (d->ret != T_NIL) {
    gdx_var result;
    d->impl(p, argv, &result);
    if (r_ret) {
      if (reg->ret_destroy) reg->ret_destroy(r_ret); /* r_ret holds an initialised value */
      reg->ret_to(r_ret, &result);
    }
    gdx_var_free(&result);
  } else {
    d->impl(p, argv, NULL);
  }
  for (int i = 0; i < d->argc; ++i) gdx_var_free(&conv[i]);
}

/* ---- instances -------------------------------------------------------------------------- */

static bool instantiate(const char* class_name, gdx_var* out) {
  gdx_sn classdb_name;
  gdx_sn_cstr(&classdb_name, "ClassDB");
  GDExtensionObjectPtr classdb = gdx.global_get_singleton(&classdb_name);
  gdx_sn_free(&classdb_name);
  if (!classdb) return false;
  gdx_var db, cls;
  gdx_var_object(&db, classdb);
  gdx_sn inst;
  gdx_sn_cstr(&inst, "instantiate");
  gdx_sn cname;
  gdx_sn_cstr(&cname, class_name);
  gdx.from_string_name(&cls, &cname);
  bool ok = gdx_call1(&db, &inst, &cls, out);
  gdx_var_free(&cls);
  gdx_sn_free(&cname);
  gdx_sn_free(&inst);
  gdx_var_free(&db);
  if (ok && !gdx_var_get_object(out)) {
    gdx_var_free(out);
    ok = false;
  }
  return ok;
}

static GDExtensionObjectPtr create_instance(void* class_userdata, GDExtensionBool notify) {
  (void)class_userdata;
  GDExtensionObjectPtr obj = gdx.classdb_construct_object2(&gdx.sn.Node);
  if (!obj) return NULL;
  fkgd_player* p = (fkgd_player*)calloc(1, sizeof *p);
  if (!p) {
    GDX_ERROR("FoleyKitPlayer: out of memory");
    return obj;
  }
  p->owner = obj;
  p->latency = 0.05;
  p->sound = fkgd_sound_create();
  gdx.object_set_instance(obj, &gdx.sn.FoleyKitPlayer, p);
  gdx_var_object(&p->self, obj);
  gdx_var_nil(&p->playback);
  gdx_var_new(&p->pushbuf, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY);
  if (notify) {
    gdx_var what;
    gdx_var_int(&what, NOTIFICATION_POSTINITIALIZE);
    gdx_call1(&p->self, &gdx.sn.notification, &what, NULL);
    gdx_var_free(&what);
  }
  if (!instantiate("AudioStreamGenerator", &p->generator)) {
    GDX_ERROR("FoleyKitPlayer: cannot create an AudioStreamGenerator");
    gdx_var_nil(&p->generator);
  } else {
    gdx_var v;
    gdx_var_float(&v, GENERATOR_SECONDS);
    gdx_call1(&p->generator, &gdx.sn.set_buffer_length, &v, NULL);
    gdx_var_free(&v);
    set_generator_rate(p, 48000.0f);
  }
  gdx_var player;
  if (instantiate("AudioStreamPlayer", &player)) {
    gdx_call1(&player, &gdx.sn.set_stream, &p->generator, NULL);
    gdx_var force, internal;
    gdx_var_bool(&force, false);
    gdx_var_int(&internal, INTERNAL_MODE_FRONT);
    const gdx_var* args[3] = {&player, &force, &internal};
    gdx_call(&p->self, &gdx.sn.add_child, args, 3, NULL);
    gdx_var_free(&force);
    gdx_var_free(&internal);
    p->internal_player_id = gdx.object_get_instance_id(gdx_var_get_object(&player));
    gdx_var_free(&player);
  } else {
    GDX_ERROR("FoleyKitPlayer: cannot create its AudioStreamPlayer");
  }
  return obj;
}

static void free_instance(void* class_userdata, GDExtensionClassInstancePtr instance) {
  (void)class_userdata;
  fkgd_player* p = (fkgd_player*)instance;
  if (!p) return;
  fkgd_sound_destroy(p->sound);
  gdx_var_free(&p->playback);
  gdx_var_free(&p->pushbuf);
  gdx_var_free(&p->generator);
  gdx_var_free(&p->self);
  free(p->mix);
  free(p);
}

static void notification(GDExtensionClassInstancePtr instance, int32_t what,
                         GDExtensionBool reversed) {
  (void)reversed;
  fkgd_player* p = (fkgd_player*)instance;
  if (!p) return;
  switch (what) {
    case NOTIFICATION_ENTER_TREE: p->in_tree = true; break;
    case NOTIFICATION_EXIT_TREE:
      p->in_tree = false;
      drop_playback(p);
      break;
    case NOTIFICATION_READY: {
      gdx_var on;
      gdx_var_bool(&on, true);
      gdx_call1(&p->self, &gdx.sn.set_process_internal, &on, NULL);
      gdx_var_free(&on);
      if (fkgd_sound_model(p->sound)) ensure_playing(p);
      break;
    }
    case NOTIFICATION_INTERNAL_PROCESS: fill(p); break;
    default: break;
  }
}

static GDExtensionClassCallVirtual get_virtual(void* class_userdata, GDExtensionConstStringNamePtr name,
                                               uint32_t hash) {
  (void)class_userdata, (void)name, (void)hash;
  return NULL;
}

/* ---- registration ----------------------------------------------------------------------- */

static void prop_info(GDExtensionPropertyInfo* pi, GDExtensionVariantType t, gdx_sn* name,
                      gdx_sn* class_name, gdx_str* hint_string, uint32_t hint) {
  pi->type = t;
  pi->name = name;
  pi->class_name = class_name;
  pi->hint = hint;
  pi->hint_string = hint_string;
  pi->usage = PROPERTY_USAGE_DEFAULT;
}

static void probe_vector2_size(void) {
  gdx_var arr, n;
  gdx_var_new(&arr, GDEXTENSION_VARIANT_TYPE_PACKED_VECTOR2_ARRAY);
  gdx_var_int(&n, 2);
  gdx_call1(&arr, &gdx.sn.resize, &n, NULL);
  void* base = gdx.internal_packed_vector2(&arr);
  if (base) {
    uint8_t* a0 = (uint8_t*)gdx.packed_vector2_array_operator_index(base, 0);
    uint8_t* a1 = (uint8_t*)gdx.packed_vector2_array_operator_index(base, 1);
    if (a0 && a1 && (a1 - a0 == 8 || a1 - a0 == 16)) g_vector2_bytes = (int)(a1 - a0);
  }
  gdx_var_free(&n);
  gdx_var_free(&arr);
}

static gdx_sn g_parent, g_prop_names[2], g_setters[2], g_getters[2], g_empty;
static gdx_str g_prop_hints[2], g_icon;

bool fkgd_player_register(void) {
  probe_vector2_size();
  gdx_sn_cstr(&g_parent, "Node");
  gdx_sn_cstr(&g_empty, "");
  gdx_str_utf8(&g_icon, "");

  GDExtensionClassCreationInfo4 ci;
  memset(&ci, 0, sizeof ci);
  ci.is_virtual = 0;
  ci.is_abstract = 0;
  ci.is_exposed = 1;
  ci.is_runtime = 0;
  ci.icon_path = &g_icon;
  ci.notification_func = notification;
  ci.create_instance_func = create_instance;
  ci.free_instance_func = free_instance;
  ci.get_virtual_func = get_virtual;
  gdx.classdb_register_extension_class5(gdx.library, &gdx.sn.FoleyKitPlayer, &g_parent, &ci);

  for (int i = 0; i < N_METHODS; ++i) {
    const method_def* d = &METHODS[i];
    method_reg* r = &g_regs[i];
    memset(r, 0, sizeof *r);
    r->def = d;
    gdx_sn_cstr(&r->name, d->name);
    gdx_sn_cstr(&r->ret_class, d->ret_class ? d->ret_class : "");
    gdx_sn_cstr(&r->empty_sn, "");
    gdx_str_utf8(&r->hint, "");
    prop_info(&r->ret_info, d->ret, &r->empty_sn, &r->ret_class, &r->hint, PROPERTY_HINT_NONE);
    if (d->ret != T_NIL) {
      r->ret_to = gdx.get_variant_to_type_constructor(d->ret);
      r->ret_destroy = gdx.variant_get_ptr_destructor(d->ret);
    }
    for (int k = 0; k < d->argc; ++k) {
      gdx_sn_cstr(&r->arg_names[k], d->arg_names[k]);
      gdx_sn_cstr(&r->arg_classes[k], d->arg_classes[k] ? d->arg_classes[k] : "");
      prop_info(&r->arg_info[k], d->args[k], &r->arg_names[k], &r->arg_classes[k], &r->hint,
                PROPERTY_HINT_NONE);
      r->arg_meta[k] = GDEXTENSION_METHOD_ARGUMENT_METADATA_NONE;
      r->arg_from[k] = gdx.get_variant_from_type_constructor(d->args[k]);
      if (d->defaults[k] != DEF_NONE) {
        gdx_var* v = &r->defaults[r->n_defaults];
        switch (d->defaults[k]) {
          case DEF_DICT: gdx_var_new(v, T_DICT); break;
          case DEF_INT0: gdx_var_int(v, 0); break;
          case DEF_FLOAT0: gdx_var_float(v, 0.0); break;
          case DEF_FADE: gdx_var_float(v, 0.05); break;
          default: gdx_var_nil(v); break;
        }
        r->default_ptrs[r->n_defaults] = v;
        r->n_defaults++;
      }
    }
    GDExtensionClassMethodInfo mi;
    memset(&mi, 0, sizeof mi);
    mi.name = &r->name;
    mi.method_userdata = r;
    mi.call_func = call_func;
    mi.ptrcall_func = ptrcall_func;
    mi.method_flags = GDEXTENSION_METHOD_FLAGS_DEFAULT | (d->is_const ? GDEXTENSION_METHOD_FLAG_CONST : 0);
    mi.has_return_value = d->ret != T_NIL;
    mi.return_value_info = &r->ret_info;
    mi.return_value_metadata = d->ret == T_FLOAT ? GDEXTENSION_METHOD_ARGUMENT_METADATA_REAL_IS_DOUBLE
                                                 : GDEXTENSION_METHOD_ARGUMENT_METADATA_NONE;
    mi.argument_count = (uint32_t)d->argc;
    mi.arguments_info = d->argc ? r->arg_info : NULL;
    mi.arguments_metadata = d->argc ? r->arg_meta : NULL;
    mi.default_argument_count = (uint32_t)r->n_defaults;
    mi.default_arguments = r->n_defaults ? r->default_ptrs : NULL;
    gdx.classdb_register_extension_class_method(gdx.library, &gdx.sn.FoleyKitPlayer, &mi);
  }

  /* Properties for the inspector: model_path (a .fkm file) and latency. */
  static const struct {
    const char* name;
    const char* setter;
    const char* getter;
    GDExtensionVariantType type;
    uint32_t hint;
    const char* hint_string;
  } props[2] = {
      {"model_path", "set_model_path", "get_model_path", T_STRING, PROPERTY_HINT_FILE, "*.fkm"},
      {"latency", "set_latency", "get_latency", T_FLOAT, PROPERTY_HINT_RANGE, "0.005,0.45,0.005,suffix:s"},
  };
  for (int i = 0; i < 2; ++i) {
    gdx_sn_cstr(&g_prop_names[i], props[i].name);
    gdx_sn_cstr(&g_setters[i], props[i].setter);
    gdx_sn_cstr(&g_getters[i], props[i].getter);
    gdx_str_utf8(&g_prop_hints[i], props[i].hint_string);
    GDExtensionPropertyInfo pi;
    prop_info(&pi, props[i].type, &g_prop_names[i], &g_empty, &g_prop_hints[i], props[i].hint);
    gdx.classdb_register_extension_class_property(gdx.library, &gdx.sn.FoleyKitPlayer, &pi,
                                                  &g_setters[i], &g_getters[i]);
  }
  /* Signals: engine_event(event: Dictionary), voice_finished(voice_id: int). */
  {
    gdx_sn arg_event, arg_voice, empty;
    gdx_str hint;
    gdx_sn_cstr(&arg_event, "event");
    gdx_sn_cstr(&arg_voice, "voice_id");
    gdx_sn_cstr(&empty, "");
    gdx_str_utf8(&hint, "");
    GDExtensionPropertyInfo pi;
    prop_info(&pi, T_DICT, &arg_event, &empty, &hint, PROPERTY_HINT_NONE);
    gdx.classdb_register_extension_class_signal(gdx.library, &gdx.sn.FoleyKitPlayer,
                                                &gdx.sn.engine_event, &pi, 1);
    prop_info(&pi, T_INT, &arg_voice, &empty, &hint, PROPERTY_HINT_NONE);
    gdx.classdb_register_extension_class_signal(gdx.library, &gdx.sn.FoleyKitPlayer,
                                                &gdx.sn.voice_finished, &pi, 1);
    gdx_sn_free(&arg_event);
    gdx_sn_free(&arg_voice);
    gdx_sn_free(&empty);
    gdx_str_free(&hint);
  }
  g_registered = true;
  return true;
}

void fkgd_player_unregister(void) {
  if (!g_registered) return;
  gdx.classdb_unregister_extension_class(gdx.library, &gdx.sn.FoleyKitPlayer);
  for (int i = 0; i < N_METHODS; ++i) {
    method_reg* r = &g_regs[i];
    gdx_sn_free(&r->name);
    gdx_sn_free(&r->ret_class);
    gdx_sn_free(&r->empty_sn);
    gdx_str_free(&r->hint);
    for (int k = 0; k < r->def->argc; ++k) {
      gdx_sn_free(&r->arg_names[k]);
      gdx_sn_free(&r->arg_classes[k]);
    }
    for (int k = 0; k < r->n_defaults; ++k) gdx_var_free(&r->defaults[k]);
  }
  for (int i = 0; i < 2; ++i) {
    gdx_sn_free(&g_prop_names[i]);
    gdx_sn_free(&g_setters[i]);
    gdx_sn_free(&g_getters[i]);
    gdx_str_free(&g_prop_hints[i]);
  }
  gdx_sn_free(&g_parent);
  gdx_sn_free(&g_empty);
  gdx_str_free(&g_icon);
  g_registered = false;
}

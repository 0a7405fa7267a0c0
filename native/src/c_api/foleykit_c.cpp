// The C ABI over the C++ core: argument checks, error codes and messages, no exceptions out.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "dsp/error.hpp"
#include "dsp/mel.hpp"
#include "dsp/streaming_synth.hpp"
#include "dsp/synthesis.hpp"
#include "dsp/version.hpp"
#include "c_api/c_api_util.hpp"
#include "foleykit/foleykit.h"

using fk::Error;
using fk::Status;
namespace dsp = fk::dsp;

namespace fk::capi {
char* last_error() {
  thread_local char message[kLastErrorBytes] = {0};
  return message;
}
}  // namespace fk::capi

namespace {

using fk::capi::fail;
using fk::capi::guarded;
using fk::capi::to_result;

dsp::FeatureSettings settings_from(const fk_synth_config& c) {
  dsp::FeatureSettings s;
  if (!std::isfinite(c.sample_rate) || !std::isfinite(c.fmin) || !std::isfinite(c.fmax))
    throw Error(Status::InvalidArgument, "sample_rate, fmin and fmax must be finite");
  s.sample_rate = c.sample_rate;
  s.n_fft = c.n_fft;
  s.hop = c.hop;
  s.n_mels = c.n_mels;
  s.fmin = c.fmin;
  s.fmax = c.fmax;
  s.log_floor = c.log_floor;
  return s;
}

}  // namespace

struct fk_synth {
  explicit fk_synth(const dsp::FeatureSettings& s) : synth(s) {}
  dsp::Synthesizer synth;
};

struct fk_stream {
  fk_stream(const dsp::FeatureSettings& s, fk_spec_kind in, dsp::StreamMethod m, uint64_t seed)
      : settings(s), input(in), core(s.n_fft, s.hop, m, seed) {
    if (in != FK_SPEC_KIND_LINEAR) {
      const double fmax = s.fmax > 0 ? s.fmax : s.sample_rate / 2;
      fb = dsp::mel_filterbank(s.sample_rate, s.n_fft, s.n_mels, s.fmin, fmax);
      inverse.reset(new dsp::MelInverse(fb.data(), s.n_mels, s.n_fft / 2 + 1));
      mel.assign(s.n_mels, 0.0f);
      lin.assign(static_cast<size_t>(s.n_fft / 2 + 1) * dsp::kFftLanes, 0.0f);
    }
  }
  int rows() const { return input == FK_SPEC_KIND_LINEAR ? settings.n_fft / 2 + 1 : settings.n_mels; }
  dsp::FeatureSettings settings;
  fk_spec_kind input;
  dsp::StreamingSynth core;
  std::vector<float> fb, mel, lin;
  std::unique_ptr<dsp::MelInverse> inverse;
};

extern "C" {

const char* fk_version(void) { return fk::kVersion; }

const char* fk_result_string(fk_result r) {
  switch (r) {
    case FK_RESULT_OK: return "success";
    case FK_RESULT_INVALID_ARGUMENT: return "invalid argument";
    case FK_RESULT_NON_FINITE: return "input contains NaN or Inf";
    case FK_RESULT_NEGATIVE_MAGNITUDE: return "input contains a negative magnitude";
    case FK_RESULT_SHAPE_MISMATCH: return "spectrogram shape does not match the settings";
    case FK_RESULT_EMPTY: return "input has zero frames";
    case FK_RESULT_BUFFER_TOO_SMALL: return "output buffer too small";
    case FK_RESULT_OUT_OF_MEMORY: return "out of memory";
    case FK_RESULT_INTERNAL: return "internal error";
    case FK_RESULT_VERSION_MISMATCH: return "config version does not match this library";
    case FK_RESULT_MODEL_INVALID: return "model file is truncated, corrupt or inconsistent";
    case FK_RESULT_IO: return "file cannot be opened or read";
    case FK_RESULT_UNSUPPORTED: return "not supported by this model or build";
    case FK_RESULT_BUSY: return "the engine's queue is full; try again later";
    default: return "unknown result code";
  }
}

const char* fk_last_error(void) { return fk::capi::last_error(); }

fk_synth_config fk_synth_config_default(void) {
  fk_synth_config c;
  c.version = FK_CONFIG_VERSION;
  c.sample_rate = 48000.0f;
  c.n_fft = 1024;
  c.hop = 256;
  c.n_mels = 80;
  c.fmin = 0.0f;
  c.fmax = 0.0f;
  c.log_floor = 1e-5f;
  return c;
}

fk_result fk_synth_create(const fk_synth_config* config, fk_synth** out) {
  if (out) *out = nullptr;
  if (!config || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "config and out must not be NULL");
  if (config->version != FK_CONFIG_VERSION)
    return fail(FK_RESULT_VERSION_MISMATCH, "fk_synth_config.version is not FK_CONFIG_VERSION");
  return guarded([&] {
    *out = new fk_synth(settings_from(*config));
    return FK_RESULT_OK;
  });
}

void fk_synth_destroy(fk_synth* synth) { delete synth; }

int64_t fk_synth_output_length(const fk_synth* synth, int32_t n_frames) {
  if (!synth || n_frames < 1) return 0;
  return dsp::istft_default_length(n_frames, synth->synth.settings().hop);
}

fk_result fk_synth_render(const fk_synth* synth, const float* spec, int32_t rows, int32_t n_frames,
                          fk_spec_kind kind, fk_phase_method method, int32_t n_iter, uint64_t seed,
                          float* out, int64_t capacity, int64_t* out_len) {
  if (out_len) *out_len = 0;
  if (!synth || !spec || !out || !out_len)
    return fail(FK_RESULT_INVALID_ARGUMENT, "synth, spec, out and out_len must not be NULL");
  if (n_frames < 1) return fail(FK_RESULT_EMPTY, "spectrogram has zero frames");
  if (kind != FK_SPEC_KIND_LINEAR && kind != FK_SPEC_KIND_MEL && kind != FK_SPEC_KIND_LOG_MEL)
    return fail(FK_RESULT_INVALID_ARGUMENT, "unknown fk_spec_kind");
  if (method < FK_PHASE_METHOD_PGHI || method > FK_PHASE_METHOD_RANDOM)
    return fail(FK_RESULT_INVALID_ARGUMENT, "unknown fk_phase_method");
  const int64_t need = fk_synth_output_length(synth, n_frames);
  if (capacity < need)
    return fail(FK_RESULT_BUFFER_TOO_SMALL,
                ("output needs " + std::to_string(need) + " samples, capacity is " +
                 std::to_string(capacity)).c_str());
  return guarded([&] {
    std::vector<float> y = synth->synth.synthesize(
        spec, rows, n_frames, /*row_stride=*/1, /*frame_stride=*/rows,
        static_cast<dsp::SpecKind>(kind), static_cast<dsp::PhaseMethod>(method), n_iter, seed);
    std::memcpy(out, y.data(), y.size() * sizeof(float));
    *out_len = static_cast<int64_t>(y.size());
    return FK_RESULT_OK;
  });
}

fk_stream_config fk_stream_config_default(void) {
  fk_stream_config c;
  c.version = FK_CONFIG_VERSION;
  c.spectrogram = fk_synth_config_default();
  c.input = FK_SPEC_KIND_LOG_MEL;
  c.method = FK_STREAM_METHOD_RTPGHI;
  c.seed = 0;
  return c;
}

fk_result fk_stream_create(const fk_stream_config* config, fk_stream** out) {
  if (out) *out = nullptr;
  if (!config || !out) return fail(FK_RESULT_INVALID_ARGUMENT, "config and out must not be NULL");
  if (config->version != FK_CONFIG_VERSION || config->spectrogram.version != FK_CONFIG_VERSION)
    return fail(FK_RESULT_VERSION_MISMATCH, "fk_stream_config.version is not FK_CONFIG_VERSION");
  if (config->input != FK_SPEC_KIND_LINEAR && config->input != FK_SPEC_KIND_MEL &&
      config->input != FK_SPEC_KIND_LOG_MEL)
    return fail(FK_RESULT_INVALID_ARGUMENT, "unknown fk_spec_kind");
  if (config->method != FK_STREAM_METHOD_RTPGHI && config->method != FK_STREAM_METHOD_RANDOM)
    return fail(FK_RESULT_INVALID_ARGUMENT, "unknown fk_stream_method");
  return guarded([&] {
    dsp::FeatureSettings s = settings_from(config->spectrogram);
    dsp::validate_settings(s);
    *out = new fk_stream(s, config->input, static_cast<dsp::StreamMethod>(config->method),
                         config->seed);
    return FK_RESULT_OK;
  });
}

void fk_stream_destroy(fk_stream* stream) { delete stream; }

int32_t fk_stream_frame_rows(const fk_stream* stream) { return stream ? stream->rows() : 0; }

int32_t fk_stream_latency_samples(const fk_stream* stream) {
  if (!stream) return 0;
  const auto& s = stream->settings;
  return s.n_fft / 2 + (stream->core.method() == dsp::StreamMethod::Rtpghi ? s.hop : 0);
}

// Real-time path: no allocation, no exceptions, no messages beyond the static ones.
fk_result fk_stream_push(fk_stream* stream, const float* frames, int32_t n_frames, float* out,
                         int32_t capacity, int32_t* out_written) {
  if (out_written) *out_written = 0;
  if (!stream || !out_written || n_frames < 0 || (n_frames > 0 && (!frames || !out)))
    return FK_RESULT_INVALID_ARGUMENT;
  if (n_frames == 0) return FK_RESULT_OK;
  const int rows = stream->rows();
  if (static_cast<int64_t>(capacity) < stream->core.max_push_output(n_frames))
    return FK_RESULT_BUFFER_TOO_SMALL;
  if (stream->input == FK_SPEC_KIND_LINEAR) {
    int64_t written = 0;
    Status st = stream->core.push(frames, n_frames, 1, rows, out, capacity, &written);
    *out_written = static_cast<int32_t>(written);
    return to_result(st);
  }
  const bool log_in = stream->input == FK_SPEC_KIND_LOG_MEL;
  for (int64_t i = 0; i < int64_t(n_frames) * rows; ++i) {
    const float v = frames[i];
    if (!std::isfinite(v)) return FK_RESULT_NON_FINITE;
    if (log_in && v > 80.0f) return FK_RESULT_INVALID_ARGUMENT;  // as fk_synth_render
    if (!log_in && v < 0.0f) return FK_RESULT_NEGATIVE_MAGNITUDE;
  }
  // Mel -> linear in batches of kFftLanes frames: a bounded scratch (the stream holds that many
  // linear frames), pushed batch by batch (the output does not depend on the split).
  const int nb = stream->settings.n_fft / 2 + 1;
  int64_t total = 0;
  for (int32_t t0 = 0; t0 < n_frames; t0 += dsp::kFftLanes) {
    const int32_t k = std::min<int32_t>(dsp::kFftLanes, n_frames - t0);
    for (int32_t j = 0; j < k; ++j) {
      const float* f = frames + int64_t(t0 + j) * rows;
      for (int r = 0; r < rows; ++r) stream->mel[r] = log_in ? std::exp(f[r]) : f[r];
      stream->inverse->apply_frame(stream->mel.data(), stream->lin.data() + int64_t(j) * nb);
    }
    int64_t written = 0;
    Status st = stream->core.push(stream->lin.data(), k, 1, nb, out + total, capacity - total,
                                  &written);
    if (st != Status::Ok) return to_result(st);
    total += written;
  }
  *out_written = static_cast<int32_t>(total);
  return FK_RESULT_OK;
}

fk_result fk_stream_flush(fk_stream* stream, float* out, int32_t capacity, int32_t* out_written) {
  if (out_written) *out_written = 0;
  if (!stream || !out || !out_written) return FK_RESULT_INVALID_ARGUMENT;
  int64_t written = 0;
  Status st = stream->core.flush(out, capacity, &written);
  *out_written = static_cast<int32_t>(written);
  return to_result(st);
}

void fk_stream_reset(fk_stream* stream) {
  if (stream) stream->core.reset();
}

}  // extern "C"

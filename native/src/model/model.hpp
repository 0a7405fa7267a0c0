// The native model runtime: an immutable Model loaded from a .fkm file, and a Session that
// holds every buffer one inference needs (sized at creation), so generating a sound or a frame
// allocates nothing.
//
//   Model  — shared, read-only after load; any number of threads may use it at once through
//            their own Sessions. Outlives its Sessions.
//   Session — per voice or per worker thread; not thread-safe; generate()/step() allocate
//            nothing, lock nothing, throw nothing (they return Status).
//
// Controls are given per control, in schema order: a continuous control as its value in
// [low, high], a categorical one as the index of its choice. encode_controls() validates them
// and builds the model's control vector.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsp/error.hpp"

namespace fk::model {

class ModelFile;

enum class Family : int { Vae = 0, Gan = 1, Transformer = 2 };
enum class Mode : int { OneShot = 0, Step = 1 };

struct ControlInfo {
  std::string name;
  bool categorical = false;
  std::vector<std::string> choices;  // categorical only
  double low = 0.0, high = 1.0;      // continuous only (double: encoded as Python does)
  bool log = false;                  // continuous: log-spaced mapping
  float default_value = 0.f;         // the value, or the choice index
  std::string unit;
  int offset = 0;                    // first entry in the control vector
  int width = 1;                     // entries in the control vector
};

struct ModelInfo {
  Family family = Family::Vae;
  Mode mode = Mode::OneShot;
  int sample_rate = 48000, n_fft = 1024, hop = 256, n_mels = 80;
  float fmin = 0.f, fmax = 0.f;  // fmax resolved (sr/2 when the file says null)
  float log_floor = 1e-5f;
  int max_frames = 0;    // one-shot: frames per clip
  int z_dim = 0;         // one-shot: latent size
  int window = 0;        // step: frames of context
  int control_dim = 0;   // length of the control vector
  std::string onnx_content_hash;
};

class Session;

class Model {
 public:
  virtual ~Model() = default;
  // Throws fk::Error (ModelInvalid, Io, Unsupported) naming the problem.
  static std::shared_ptr<const Model> load(const std::string& path);
  static std::shared_ptr<const Model> load_memory(const uint8_t* data, size_t size);
  static std::shared_ptr<const Model> from_file(const ModelFile& file);

  const ModelInfo& info() const { return info_; }
  const std::vector<ControlInfo>& controls() const { return controls_; }
  int find_control(const std::string& name) const;  // index or -1
  // values[i] for control i (defaults for all when values == nullptr). Writes control_dim
  // floats. Status::InvalidArgument for a value out of range, a choice index out of range, or
  // a non-finite value, with the message in error[0..error_size) when given; vec is then
  // untouched. Never allocates.
  Status encode_controls(const float* values, int n_values, float* vec, char* error = nullptr,
                         size_t error_size = 0) const;
  void default_controls(float* values) const;  // controls().size() floats

  virtual std::unique_ptr<Session> create_session() const = 0;

 protected:
  // Feature settings and control schema from the file's meta (throws on anything invalid).
  void init_common(const ModelFile& file, Family family);

  ModelInfo info_;
  std::vector<ControlInfo> controls_;
};

class Session {
 public:
  virtual ~Session() = default;

  // One-shot models. Raw graph outputs, for parity with ONNX Runtime: z (z_dim floats) and
  // the control vector in; log_mel (n_mels x max_frames, frame-major: [t * n_mels + m]) and
  // alive_logits (max_frames) out.
  virtual Status run_one_shot(const float* z, const float* control_vec, float* log_mel,
                              float* alive_logits) { return Status::Unsupported; }
  // The product path: controls by value, z drawn from the seed exactly as Python's
  // foleykit.models.common.seed_noise(seed, z_dim); log_mel gets frame-major frames up to
  // the last frame the model marks as sounding (at least 1); *frames says how many.
  // capacity_frames must be >= max_frames.
  virtual Status generate(const float* control_values, int n_values, uint64_t seed,
                          float* log_mel, int capacity_frames, int* frames) {
    return Status::Unsupported;
  }

  // Step models. Raw graph step (frame, control vector, noise, state in; next frame and next
  // state out; state is window x n_mels frame-major), for parity with ONNX Runtime.
  virtual Status run_step(const float* frame, const float* control_vec, const float* noise,
                          const float* state, float* next_frame, float* next_state) {
    return Status::Unsupported;
  }
  // The product path: the session owns the stream (state starts as silence). reset() starts a
  // stream for (controls, seed); set_controls() takes effect from the next frame; next()
  // writes `count` frames (frame-major) with noise from seed_noise(seed, n_mels, stream=k).
  virtual Status stream_reset(const float* control_values, int n_values, uint64_t seed) {
    return Status::Unsupported;
  }
  virtual Status stream_set_controls(const float* control_values, int n_values) {
    return Status::Unsupported;
  }
  virtual Status stream_next(float* log_mel, int count) { return Status::Unsupported; }

  // The message of the last failure of this session ("" when none).
  const char* last_error() const { return error_; }

 protected:
  void fail(const char* fmt, ...);  // formats into error_ (truncating; never allocates)
  char error_[256] = {0};
};

// splitmix64 + Box-Muller, bit-compatible with foleykit.models.common.seed_noise.
void seed_noise(uint64_t seed, uint64_t stream, float* out, int n);

}  // namespace fk::model

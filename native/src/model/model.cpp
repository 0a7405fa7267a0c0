// Loading: every field of the file is checked against what the architecture needs before
// anything is sized from it. Inference: see clip_decoder.cpp and causal_transformer.cpp.
#include "model/model.hpp"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <set>

#include "dsp/synthesis.hpp"
#include "model/model_file.hpp"
#include "model/model_impl.hpp"

namespace fk::model {

void Session::fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(error_, sizeof error_, fmt, ap);
  va_end(ap);
}

// ---- seeded noise (bit-compatible with foleykit.models.common.seed_noise) ------------------

namespace {
inline uint64_t splitmix64(uint64_t& state) {
  state += 0x9E3779B97F4A7C15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

void seed_noise(uint64_t seed, uint64_t stream, float* out, int n) {
  uint64_t state = seed ^ (stream * 0xD1B54A32D192ED03ull);
  const double two_pi = 2.0 * 3.141592653589793;
  for (int i = 0; i < n; i += 2) {
    const uint64_t a = splitmix64(state), b = splitmix64(state);
    const double u1 = double((a >> 11) + 1) * (1.0 / 9007199254740992.0);
    const double u2 = double(b >> 11) * (1.0 / 9007199254740992.0);
    const double r = std::sqrt(-2.0 * std::log(u1));
    out[i] = float(r * std::cos(two_pi * u2));
    if (i + 1 < n) out[i + 1] = float(r * std::sin(two_pi * u2));
  }
}

// ---- checks ---------------------------------------------------------------------------------

[[noreturn]] void invalid(const std::string& what) { throw Error(Status::ModelInvalid, what); }

const float* expect_tensor(const ModelFile& f, const std::string& name,
                           std::initializer_list<int64_t> shape, std::set<std::string>* used) {
  const Tensor* t = f.find(name);
  if (!t) invalid("model file lacks tensor '" + name + "'");
  auto fmt = [](const std::vector<int64_t>& s) {
    std::string o = "[";
    for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
    return o + "]";
  };
  const std::vector<int64_t> want(shape);
  if (t->shape != want)
    invalid("tensor '" + name + "' has shape " + fmt(t->shape) + ", the architecture needs " +
            fmt(want));
  used->insert(name);
  return t->data;
}

void refuse_unused(const ModelFile& f, const std::set<std::string>& used) {
  for (const Tensor& t : f.tensors())
    if (!used.count(t.name))
      invalid("model file has tensor '" + t.name + "' that its architecture does not use");
}

namespace {

ControlInfo parse_control(const Json& c, size_t index) {
  const std::string where = "control_schema.controls[" + std::to_string(index) + "]";
  if (!c.is_object()) invalid(where + " is not an object");
  ControlInfo ci;
  ci.name = require_string(c, "name", where + ".name");
  if (ci.name.empty() || ci.name.size() > 128) invalid(where + ".name must have 1..128 bytes");
  const std::string& kind = require_string(c, "kind", where + ".kind");
  const Json* unit = c.find("unit");
  if (unit && unit->is_string()) ci.unit = unit->as_string();
  const Json& def = require(c, "default", where + ".default");
  if (kind == "categorical") {
    ci.categorical = true;
    const Json& ch = require(c, "choices", where + ".choices");
    if (!ch.is_array() || ch.items().empty() || ch.items().size() > 4096)
      invalid(where + ".choices must be a list of 1..4096 names");
    std::set<std::string> seen;
    for (const Json& x : ch.items()) {
      if (!x.is_string() || x.as_string().empty()) invalid(where + ".choices holds a non-name");
      if (!seen.insert(x.as_string()).second)
        invalid(where + ".choices repeats '" + x.as_string() + "'");
      ci.choices.push_back(x.as_string());
    }
    if (!def.is_string()) invalid(where + ".default must be one of its choices");
    int found = -1;
    for (size_t i = 0; i < ci.choices.size(); ++i)
      if (ci.choices[i] == def.as_string()) found = int(i);
    if (found < 0) invalid(where + ".default '" + def.as_string() + "' is not one of its choices");
    ci.default_value = float(found);
    ci.width = int(ci.choices.size());
  } else if (kind == "continuous") {
    const double lo = require_number(c, "low", where + ".low");
    const double hi = require_number(c, "high", where + ".high");
    if (!(std::isfinite(lo) && std::isfinite(hi) && hi > lo))
      invalid(where + " needs finite low < high");
    const Json* lg = c.find("log");
    ci.log = lg && lg->is_bool() && lg->as_bool();
    if (ci.log && lo <= 0) invalid(where + " has a log range that is not positive");
    if (!def.is_number() || !(def.as_number() >= lo && def.as_number() <= hi))
      invalid(where + ".default is outside [low, high]");
    ci.low = lo;
    ci.high = hi;
    ci.default_value = float(def.as_number());
    ci.width = 1;
  } else {
    invalid(where + ".kind must be categorical or continuous");
  }
  return ci;
}

}  // namespace

void Model::init_common(const ModelFile& file, Family family) {
  const Json& meta = file.meta();
  ModelInfo& in = info_;
  in.family = family;
  const std::string& fam = require_string(meta, "model_family", "meta.model_family");
  const char* want = family == Family::Vae ? "vae" : family == Family::Gan ? "gan" : "transformer";
  if (fam != want) invalid("meta.model_family '" + fam + "' does not match the architecture");
  in.sample_rate = int(require_int(meta, "sample_rate", "meta.sample_rate", 8000, 384000));
  in.n_fft = int(require_int(meta, "n_fft", "meta.n_fft", 16, 65536));
  in.hop = int(require_int(meta, "hop", "meta.hop", 1, 65536));
  in.n_mels = int(require_int(meta, "n_mels", "meta.n_mels", 1, 1024));
  in.fmin = float(require_number(meta, "fmin", "meta.fmin"));
  const Json& fmax = require(meta, "fmax", "meta.fmax");
  if (fmax.is_null()) {
    in.fmax = in.sample_rate / 2.0f;
  } else if (fmax.is_number()) {
    in.fmax = float(fmax.as_number());
  } else {
    invalid("meta.fmax must be a number or null");
  }
  const double floor = require_number(meta, "log_floor", "meta.log_floor");
  if (!(floor > 0 && floor < 1)) invalid("meta.log_floor must be in (0, 1)");
  in.log_floor = float(floor);
  auto unsupported = [](const std::string& m) { throw Error(Status::Unsupported, m); };
  if (require_string(meta, "window", "meta.window") != "hann_periodic")
    unsupported("this runtime synthesises with a periodic Hann window; the model was trained "
                "with window '" + meta.find("window")->as_string() + "'");
  const Json& center = require(meta, "center", "meta.center");
  if (!center.is_bool() || !center.as_bool())
    unsupported("this runtime needs centred frames (meta.center true)");
  const Json* scale = meta.find("mel_scale");
  if (scale && (!scale->is_string() || scale->as_string() != "slaney"))
    unsupported("this runtime uses the Slaney mel scale; the model says otherwise");
  dsp::FeatureSettings fs;
  fs.sample_rate = in.sample_rate;
  fs.n_fft = in.n_fft;
  fs.hop = in.hop;
  fs.n_mels = in.n_mels;
  fs.fmin = in.fmin;
  fs.fmax = in.fmax;
  fs.log_floor = in.log_floor;
  try {
    dsp::validate_settings(fs);
  } catch (const Error& e) {
    throw Error(Status::Unsupported, std::string("the model's feature settings: ") + e.what());
  }
  const Json* hash = file.header().find("onnx_content_hash");
  if (hash && hash->is_string()) in.onnx_content_hash = hash->as_string();

  const Json& schema = require(meta, "control_schema", "meta.control_schema");
  const Json& list = require(schema, "controls", "meta.control_schema.controls");
  if (!list.is_array() || list.items().size() > 256)
    invalid("meta.control_schema.controls must be a list of at most 256 controls");
  std::set<std::string> names;
  int offset = 0;
  for (size_t i = 0; i < list.items().size(); ++i) {
    ControlInfo ci = parse_control(list.items()[i], i);
    if (!names.insert(ci.name).second) invalid("control '" + ci.name + "' appears twice");
    ci.offset = offset;
    offset += ci.width;
    controls_.push_back(std::move(ci));
  }
  in.control_dim = offset;
}

int Model::find_control(const std::string& name) const {
  for (size_t i = 0; i < controls_.size(); ++i)
    if (controls_[i].name == name) return int(i);
  return -1;
}

void Model::default_controls(float* values) const {
  for (size_t i = 0; i < controls_.size(); ++i) values[i] = controls_[i].default_value;
}

Status Model::encode_controls(const float* values, int n_values, float* vec, char* error,
                              size_t error_size) const {
  // Runs on inference threads: messages go to the caller's buffer, nothing is allocated.
  auto say = [&](const char* fmt, auto... args) {
    if (error && error_size) std::snprintf(error, error_size, fmt, args...);
    return Status::InvalidArgument;
  };
  if (values && n_values != int(controls_.size()))
    return say("expected %d control values, got %d", int(controls_.size()), n_values);
  // Every value is checked before vec is touched: a refused call leaves a stream's controls
  // as they were.
  for (size_t i = 0; i < controls_.size(); ++i) {
    const ControlInfo& c = controls_[i];
    const float v = values ? values[i] : c.default_value;
    if (c.categorical) {
      const int k = std::isfinite(v) && v >= 0 && v < float(c.width) ? int(v) : -1;
      if (k < 0 || v != float(k))
        return say("control '%s' must be a choice index in [0, %d]; got %g", c.name.c_str(),
                   c.width - 1, double(v));
    } else if (!(std::isfinite(v) && v >= float(c.low) && v <= float(c.high))) {
      // Compared in float: a range end given as float (0.1f > 0.1) is still in range.
      return say("control '%s' must be a number in [%g, %g]%s%s; got %g", c.name.c_str(),
                 double(c.low), double(c.high), c.unit.empty() ? "" : " ", c.unit.c_str(),
                 double(v));
    }
  }
  for (size_t i = 0; i < controls_.size(); ++i) {
    const ControlInfo& c = controls_[i];
    const float v = values ? values[i] : c.default_value;
    float* out = vec + c.offset;
    if (c.categorical) {
      for (int j = 0; j < c.width; ++j) out[j] = j == int(v) ? 1.0f : 0.0f;
    } else {
      // In double, as Python's ControlDef.encode computes it.
      const double lo = c.low, hi = c.high, x = std::min(std::max(double(v), lo), hi);
      out[0] = c.log ? float((std::log(x) - std::log(lo)) / (std::log(hi) - std::log(lo)))
                     : float((x - lo) / (hi - lo));
    }
  }
  return Status::Ok;
}

std::shared_ptr<const Model> Model::from_file(const ModelFile& file) {
  const Json& arch = file.architecture();
  const std::string& kind = require_string(arch, "kind", "architecture.kind");
  const std::string& fam = require_string(file.meta(), "model_family", "meta.model_family");
  if (kind == "clip_decoder") {
    if (fam != "vae" && fam != "gan")
      invalid("architecture clip_decoder does not fit model family '" + fam + "'");
    return make_clip_decoder(file, fam == "vae" ? Family::Vae : Family::Gan);
  }
  if (kind == "causal_transformer") {
    if (fam != "transformer")
      invalid("architecture causal_transformer does not fit model family '" + fam + "'");
    return make_causal_transformer(file);
  }
  throw Error(Status::Unsupported, "unknown architecture '" + kind + "'");
}

std::shared_ptr<const Model> Model::load(const std::string& path) {
  const size_t n = path.size();
  if (n >= 5 && path.compare(n - 5, 5, ".onnx") == 0)
    throw Error(Status::Unsupported,
                "'" + path + "' is the ONNX model; the native runtime loads the .fkm file "
                "that `foleykit export` writes next to it (or convert it: foleykit export "
                "--native-from " + path + ")");
  return from_file(ModelFile::load(path));
}

std::shared_ptr<const Model> Model::load_memory(const uint8_t* data, size_t size) {
  return from_file(ModelFile::parse(data, size));
}

}  // namespace fk::model

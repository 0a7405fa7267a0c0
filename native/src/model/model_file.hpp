// Reading a .fkm file (format.hpp) into memory, checking everything, trusting nothing.
// A file is untrusted input: every failure throws fk::Error(Status::ModelInvalid or
// Status::Io) with a message naming the problem; nothing here reads past the buffer or
// allocates more than the file's (capped) size plus the parsed header.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dsp/error.hpp"
#include "model/format.hpp"

namespace fk::model {

// A parsed JSON value (a small DOM). Numbers are kept as double.
class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const { return b_; }
  double as_number() const { return num_; }
  const std::string& as_string() const { return str_; }
  const std::vector<Json>& items() const { return arr_; }                       // arrays
  const std::vector<std::pair<std::string, Json>>& members() const { return obj_; }  // objects
  // Object member by key, or nullptr (also nullptr when this is not an object).
  const Json* find(std::string_view key) const;

  // Parses UTF-8 text (no trailing garbage except whitespace). Depth <= kMaxJsonDepth.
  // Throws fk::Error(Status::ModelInvalid, "... at byte N") on any syntax error.
  static Json parse(std::string_view text);

  // Builders (used by the parser and by tests).
  static Json make_null();
  static Json make_bool(bool v);
  static Json make_number(double v);
  static Json make_string(std::string v);
  static Json make_array(std::vector<Json> v);
  static Json make_object(std::vector<std::pair<std::string, Json>> v);

 private:
  Type type_ = Type::Null;
  bool b_ = false;
  double num_ = 0.0;
  std::string str_;
  std::vector<Json> arr_;
  std::vector<std::pair<std::string, Json>> obj_;
};

// Typed accessors that throw ModelInvalid naming `what` (e.g. "architecture.channels") when a
// key is missing or of the wrong type or range.
const Json& require(const Json& obj, std::string_view key, std::string_view what);
int64_t require_int(const Json& obj, std::string_view key, std::string_view what, int64_t lo,
                    int64_t hi);
double require_number(const Json& obj, std::string_view key, std::string_view what);
const std::string& require_string(const Json& obj, std::string_view key, std::string_view what);

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;  // rank <= kMaxRank; [] is a scalar
  const float* data = nullptr; // points into the file's bytes (64-byte aligned in memory)
  size_t count = 0;            // product of shape (1 for a scalar)
};

struct ParseOptions {
  bool verify_checksum = true;  // fuzzing turns this off to reach the deeper checks
};

// The whole file, validated: header fields, sizes, checksum, JSON syntax, the tensor table
// (names unique and non-empty, dtype float32, dims >= 0, counts without overflow, offsets
// aligned, every tensor inside the data section, no two tensors overlapping), and every
// tensor value finite. It checks the *container*; model.cpp checks the architecture.
class ModelFile {
 public:
  static ModelFile parse(const uint8_t* data, size_t size, const ParseOptions& opt = {});
  static ModelFile load(const std::string& path, const ParseOptions& opt = {});

  const Json& header() const { return *header_; }
  const Json& meta() const;          // header()["meta"], an object
  const Json& architecture() const;  // header()["architecture"], an object
  const std::vector<Tensor>& tensors() const { return tensors_; }
  const Tensor* find(std::string_view name) const;  // nullptr if absent
  size_t file_bytes() const { return size_; }

 private:
  std::shared_ptr<Json> header_;
  // The data section, copied; Tensor::data points into it at a 64-byte aligned base (the
  // vector is over-allocated by kAlign bytes). Shared, so copies of a ModelFile stay valid.
  std::shared_ptr<std::vector<float>> storage_;
  std::vector<Tensor> tensors_;
  std::vector<uint32_t> by_name_;  // indices into tensors_, sorted by name (for find)
  size_t size_ = 0;
};

}  // namespace fk::model

// The .fkm reader (model/model_file.hpp) and its JSON parser, against files built here in
// memory: a valid file must round-trip exactly, and every kind of damage (truncation, bit
// flips, hostile header fields, malformed JSON, a bad tensor table, non-finite weights) must
// be refused with Status::ModelInvalid and a message that says what is wrong, without reading
// out of bounds (run under .ci/sanitize) and without allocating on the file's word.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "check.h"
#include "model/model_file.hpp"

using fk::Error;
using fk::Status;
using fk::model::Json;
using fk::model::ModelFile;
using fk::model::ParseOptions;
using fk::model::Tensor;
namespace fm = fk::model;

// ---- allocation probe ------------------------------------------------------------------------
// Replaces the global operator new so a test can see the largest single allocation made while
// parsing a hostile header: the reader must refuse absurd sizes before allocating anything.
static bool g_track = false;
static size_t g_largest = 0;

void* operator new(size_t n) {
  if (g_track && n > g_largest) g_largest = n;
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

// ---- a small .fkm writer -----------------------------------------------------------------------

using Bytes = std::vector<uint8_t>;

static void put_u32(Bytes& b, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = uint8_t(v >> (8 * k));
}
static void put_u64(Bytes& b, size_t at, uint64_t v) {
  for (int k = 0; k < 8; ++k) b[at + k] = uint8_t(v >> (8 * k));
}
static void fix_checksum(Bytes& f) { put_u64(f, 24, fm::fnv1a64(f.data() + 32, f.size() - 32)); }

// Header + JSON + zero padding to a multiple of 64 + data, with a correct checksum.
static Bytes assemble(const std::string& json, const Bytes& data) {
  const size_t data_start = (32 + json.size() + 63) / 64 * 64;
  Bytes f(data_start + data.size(), 0);
  std::memcpy(f.data(), fm::kMagic, 8);
  put_u32(f, 8, fm::kFormatVersion);
  put_u32(f, 12, uint32_t(json.size()));
  put_u64(f, 16, data.size());
  std::memcpy(f.data() + 32, json.data(), json.size());
  if (!data.empty()) std::memcpy(f.data() + data_start, data.data(), data.size());
  fix_checksum(f);
  return f;
}

static size_t data_start_of(const Bytes& f) {
  uint32_t json_bytes = 0;
  for (int k = 0; k < 4; ++k) json_bytes |= uint32_t(f[12 + k]) << (8 * k);
  return (32 + json_bytes + 63) / 64 * 64;
}

// A header around a tensor table (JSON text), with meta and architecture.
static std::string header(const std::string& tensors, const std::string& extra = "") {
  return std::string(R"({"format":"foleykit-native","version":1,"onnx_content_hash":"00ff",)") +
         R"("meta":{"sample_rate":48000,"n_fft":1024,"fmax":null,"center":true,)" +
         R"("name":"caf\u00e9"},)" +
         R"("architecture":{"kind":"clip_decoder","channels":8,"leaky_slope":0.2},)" +
         R"("tensors":)" + tensors + extra + "}";
}

// A tensor table entry.
static std::string entry(const std::string& name, const std::string& shape, long long offset,
                         const std::string& dtype = "float32") {
  return R"({"name":")" + name + R"(","dtype":")" + dtype + R"(","shape":)" + shape +
         R"(,"offset":)" + std::to_string(offset) + "}";
}

// A data section of `bytes` zero bytes with float values written at byte offsets.
struct Floats {
  uint64_t offset;
  std::vector<float> values;
};
static Bytes data_section(size_t bytes, const std::vector<Floats>& parts) {
  Bytes d(bytes, 0);
  for (const Floats& p : parts)
    std::memcpy(d.data() + p.offset, p.values.data(), p.values.size() * 4);
  return d;
}

// A valid file with a matrix, a vector, a scalar and an empty tensor.
static Bytes valid_file() {
  const std::string t =
      "[" + entry("fc.weight", "[2, 3]", 0) + "," + entry("fc.bias", "[3]", 64) + "," +
      entry("stats.lo", "[]", 128) + "," +
      R"({"name":"empty","dtype":"float32","shape":[0,5],"offset":128,"note":"x"})" + "]";
  const Bytes d = data_section(
      132, {{0, {1, 2, 3, 4, 5, 6}}, {64, {-0.5f, 0.25f, 1e-3f}}, {128, {42.0f}}});
  return assemble(header(t, R"(,"future_key":[1,{"a":null}])"), d);
}

// ---- expectation helpers --------------------------------------------------------------------

static bool contains(const std::string& s, const std::string& w) {
  return s.find(w) != std::string::npos;
}

// Parses `f` and reports whether it was refused with ModelInvalid and a message holding `word`.
// On a mismatch it says what happened, tagged with `label`.
static bool refused(const Bytes& f, const std::string& word, const std::string& label,
                    const ParseOptions& opt = {}, bool quiet = false) {
  std::string got;
  try {
    ModelFile::parse(f.data(), f.size(), opt);
    got = "accepted";
  } catch (const Error& e) {
    if (e.status() == Status::ModelInvalid && contains(e.what(), word)) return true;
    got = "status " + std::to_string(int(e.status())) + ": " + e.what();
  } catch (const std::exception& e) {
    got = std::string("foreign exception: ") + e.what();
  }
  if (!quiet)
    fprintf(stderr, "  %s: expected ModelInvalid mentioning '%s', got %s\n", label.c_str(),
            word.c_str(), got.c_str());
  return false;
}
#define CHECK_REFUSED(f, word, label) CHECK(refused((f), (word), (label)))

static bool json_refused(const std::string& text, const std::string& word) {
  try {
    Json::parse(text);
    fprintf(stderr, "  Json::parse accepted %s\n", text.substr(0, 60).c_str());
    return false;
  } catch (const Error& e) {
    const bool ok = e.status() == Status::ModelInvalid && contains(e.what(), word) &&
                    contains(e.what(), "at byte ");
    if (!ok)
      fprintf(stderr, "  Json::parse(%s): expected '%s', got: %s\n", text.substr(0, 60).c_str(),
              word.c_str(), e.what());
    return ok;
  }
}

template <class F>
static std::string error_of(F&& f, Status* status = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (status) *status = e.status();
    return e.what();
  }
  return "";
}

// ---- Json ------------------------------------------------------------------------------------

static void test_json_values() {
  const Json v = Json::parse(" \t\r\n{\"a\": [1, -0.5e-3, 1E+2, 0, -0, 1e-400, true, false, null],"
                             " \"b\": {\"c\": \"d\"}, \"\": 7 } \n");
  CHECK(v.is_object());
  CHECK_EQ(v.members().size(), 3);
  const Json* a = v.find("a");
  CHECK(a && a->is_array() && a->items().size() == 9);
  if (a && a->items().size() == 9) {
    const auto& x = a->items();
    CHECK(x[0].is_number() && x[0].as_number() == 1.0);
    CHECK(x[1].as_number() == -0.5e-3);
    CHECK(x[2].as_number() == 100.0);
    CHECK(x[3].as_number() == 0.0 && !std::signbit(x[3].as_number()));
    CHECK(x[4].as_number() == 0.0 && std::signbit(x[4].as_number()));
    CHECK(x[5].as_number() == 0.0);  // underflow rounds to zero
    CHECK(x[6].is_bool() && x[6].as_bool());
    CHECK(x[7].is_bool() && !x[7].as_bool());
    CHECK(x[8].is_null());
  }
  CHECK(v.find("b") && v.find("b")->find("c") && v.find("b")->find("c")->as_string() == "d");
  CHECK(v.find("") && v.find("")->as_number() == 7.0);
  CHECK(v.find("zz") == nullptr);
  CHECK(a && a->find("a") == nullptr);  // find on a non-object
  CHECK(Json::parse("1.7976931348623157e308").as_number() == std::numeric_limits<double>::max());
  CHECK(Json::parse("4.9e-324").as_number() > 0.0);
  CHECK(Json::parse("123456789012").as_number() == 123456789012.0);
  CHECK(Json::parse("0.1").as_number() == 0.1);
  CHECK(Json::parse("-12.5E-1").as_number() == -1.25);
  CHECK(Json::parse("0e-99999999999999999999").as_number() == 0.0);
  CHECK(Json::parse("\"x\"").as_string() == "x");
  CHECK(Json::parse("[]").items().empty());
  CHECK(Json::parse("{}").members().empty());
  // Member order is kept.
  const Json o = Json::parse(R"({"z":1,"a":2,"m":3})");
  CHECK(o.members().size() == 3 && o.members()[0].first == "z" && o.members()[2].first == "m");
}

static void test_json_strings() {
  CHECK(Json::parse(R"("\"\\\/\b\f\n\r\t")").as_string() == "\"\\/\b\f\n\r\t");
  CHECK(Json::parse(R"("caf\u00e9")").as_string() == "caf\xC3\xA9");
  CHECK(Json::parse(R"("\u20AC\u20ac")").as_string() == "\xE2\x82\xAC\xE2\x82\xAC");
  CHECK(Json::parse(R"("\uD83D\uDE00")").as_string() == "\xF0\x9F\x98\x80");  // U+1F600
  CHECK(Json::parse(R"("\ud834\udd1e!")").as_string() == "\xF0\x9D\x84\x9E!");  // U+1D11E
  CHECK(Json::parse(R"("\uDBFF\uDFFF")").as_string() == "\xF4\x8F\xBF\xBF");  // U+10FFFF
  CHECK(Json::parse(R"("\u007f\u0080\u07FF\u0800")").as_string() ==
        "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80");
  const std::string nul = Json::parse(R"("a\u0000b")").as_string();
  CHECK(nul.size() == 3 && nul[1] == '\0');
  CHECK(Json::parse("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").as_string() ==
        "caf\xC3\xA9 \xF0\x9F\x98\x80");  // raw UTF-8
  CHECK(Json::parse("\"\xFF\xFE\"").as_string() == "\xFF\xFE");  // invalid UTF-8 passes through
  CHECK(Json::parse(R"(["a","b\"c"])").items()[1].as_string() == "b\"c");
}

static void test_json_errors() {
  CHECK(json_refused("", "end of text"));
  CHECK(json_refused("   ", "end of text"));
  CHECK(json_refused("{} x", "after the JSON value"));
  CHECK(json_refused("\xEF\xBB\xBF{}", "expected a value"));  // a BOM is not JSON
  CHECK(json_refused("{\"a\" 1}", "expected ':'"));
  CHECK(json_refused("{\"a\":}", "expected a value"));
  CHECK(json_refused("{a:1}", "string key"));
  CHECK(json_refused("{'a':1}", "string key"));
  CHECK(json_refused("{\"a\":1,}", "trailing comma"));
  CHECK(json_refused("[1,2,]", "trailing comma in array at byte 5"));
  CHECK(json_refused("[1 2]", "expected ',' or ']'"));
  CHECK(json_refused("[1,,2]", "expected a value"));
  CHECK(json_refused("{\"a\":1,\"a\":2}", "duplicate key \"a\" in object at byte 7"));
  CHECK(json_refused("{\"b\":1,\"a\":2,\"c\":3,\"a\":4,\"b\":5}", "duplicate key \"a\""));
  CHECK(json_refused("{", "unterminated object"));
  CHECK(json_refused("{\"a\":1", "unterminated object"));
  CHECK(json_refused("[1,2", "unterminated array"));
  CHECK(json_refused("\"abc", "unterminated string at byte 0"));
  CHECK(json_refused("\"abc\\", "unterminated string"));
  CHECK(json_refused("\"a\\x\"", "invalid escape \\x in string at byte 2"));
  CHECK(json_refused("\"a\\'\"", "invalid escape"));
  CHECK(json_refused("\"\\ud800\"", "lone high surrogate"));
  CHECK(json_refused("\"\\ud800\"x", "lone high surrogate"));
  CHECK(json_refused("\"\\ud800", "lone high surrogate"));
  CHECK(json_refused("\"\\udc00\"", "lone low surrogate"));
  CHECK(json_refused("\"\\ud800\\u0041\"", "not followed by a low surrogate"));
  CHECK(json_refused("\"\\ud800\\ud800\"", "not followed by a low surrogate"));
  CHECK(json_refused("\"\\uZZZZ\"", "hex digits"));
  CHECK(json_refused("[\"\\u12\"]", "hex digits"));
  CHECK(json_refused("\"\\u12", "truncated \\u escape"));
  CHECK(json_refused("\"a\x01\"", "control character"));
  CHECK(json_refused("\"a\tb\"", "control character"));
  CHECK(json_refused("\"a\nb\"", "control character"));
  CHECK(json_refused("01", "leading zero"));
  CHECK(json_refused("-01", "leading zero"));
  CHECK(json_refused("[00]", "leading zero"));
  CHECK(json_refused("1.", "after the decimal point"));
  CHECK(json_refused(".5", "expected a value"));
  CHECK(json_refused("-", "digit"));
  CHECK(json_refused("+1", "expected a value"));
  CHECK(json_refused("1e", "exponent"));
  CHECK(json_refused("1e+", "exponent"));
  CHECK(json_refused("0x10", "after the JSON value"));
  CHECK(json_refused("1.5.2", "after the JSON value"));
  CHECK(json_refused("NaN", "expected a value"));
  CHECK(json_refused("Infinity", "expected a value"));
  CHECK(json_refused("-Infinity", "digit"));
  CHECK(json_refused("1e400", "out of the range"));
  CHECK(json_refused("-2e308", "out of the range"));
  CHECK(json_refused("[1" + std::string(400, '0') + "e-10]", "out of the range"));
  CHECK(json_refused("tru", "invalid literal"));
  CHECK(json_refused("nul", "invalid literal"));
  CHECK(json_refused("True", "expected a value"));
  CHECK(json_refused("[1] // c", "after the JSON value"));
  CHECK(json_refused("\f1", "expected a value"));  // form feed is not JSON whitespace

  // Nesting: 32 levels are fine, 33 are not, and 1000 are refused without a stack overflow.
  auto nest = [](size_t n, const char* open, const char* close) {
    std::string s;
    for (size_t k = 0; k < n; ++k) s += open;
    s += "1";
    for (size_t k = 0; k < n; ++k) s += close;
    return s;
  };
  {
    bool ok = true;
    try {
      Json::parse(nest(fm::kMaxJsonDepth, "[", "]"));
      Json::parse(nest(fm::kMaxJsonDepth, "{\"k\":", "}"));
    } catch (const Error& e) {
      ok = false;
      fprintf(stderr, "  depth %zu refused: %s\n", fm::kMaxJsonDepth, e.what());
    }
    CHECK(ok);
  }
  CHECK(json_refused(nest(fm::kMaxJsonDepth + 1, "[", "]"), "nesting too deep"));
  CHECK(json_refused(nest(fm::kMaxJsonDepth + 1, "{\"k\":", "}"), "nesting too deep"));
  CHECK(json_refused(nest(1000, "[", "]"), "nesting too deep"));
  CHECK(json_refused(std::string(100000, '['), "nesting too deep"));
  // A wide object with many keys is fine (duplicate detection is not quadratic).
  std::string wide = "{";
  for (int k = 0; k < 20000; ++k) wide += (k ? ",\"k" : "\"k") + std::to_string(k) + "\":0";
  wide += "}";
  CHECK(Json::parse(wide).members().size() == 20000);
  CHECK(json_refused(wide.substr(0, wide.size() - 1) + ",\"k123\":1}", "duplicate key \"k123\""));
}

static void test_json_builders_and_require() {
  const Json o = Json::make_object({
      {"i", Json::make_number(3)},
      {"half", Json::make_number(2.5)},
      {"neg", Json::make_number(-1)},
      {"big", Json::make_number(1e19)},
      {"min", Json::make_number(-9223372036854775808.0)},
      {"nan", Json::make_number(std::nan(""))},
      {"s", Json::make_string("hello")},
      {"b", Json::make_bool(true)},
      {"n", Json::make_null()},
      {"arr", Json::make_array({Json::make_number(1)})},
  });
  CHECK(o.is_object() && o.find("s")->is_string() && o.find("arr")->items().size() == 1);
  CHECK(o.find("b")->as_bool() && o.find("n")->is_null());

  CHECK_EQ(fm::require_int(o, "i", "arch.i", 0, 10), 3);
  CHECK_EQ(fm::require_int(o, "i", "arch.i", 3, 3), 3);
  CHECK_EQ(fm::require_int(o, "min", "arch.min", INT64_MIN, 0), INT64_MIN);
  Status st = Status::Ok;
  std::string m = error_of([&] { fm::require_int(o, "half", "arch.half", 0, 10); }, &st);
  CHECK(st == Status::ModelInvalid && contains(m, "arch.half") && contains(m, "integer"));
  m = error_of([&] { fm::require_int(o, "i", "arch.i", 4, 10); });
  CHECK(contains(m, "arch.i") && contains(m, "outside [4, 10]"));
  m = error_of([&] { fm::require_int(o, "neg", "arch.neg", 0, 10); });
  CHECK(contains(m, "arch.neg") && contains(m, "outside"));
  m = error_of([&] { fm::require_int(o, "big", "arch.big", INT64_MIN, INT64_MAX); });
  CHECK(contains(m, "arch.big") && contains(m, "outside"));  // no UB converting 1e19
  m = error_of([&] { fm::require_int(o, "nan", "arch.nan", 0, 10); });
  CHECK(contains(m, "arch.nan") && contains(m, "integer"));
  m = error_of([&] { fm::require_int(o, "s", "arch.s", 0, 10); });
  CHECK(contains(m, "arch.s") && contains(m, "integer") && contains(m, "string"));
  m = error_of([&] { fm::require_int(o, "nope", "arch.nope", 0, 10); }, &st);
  CHECK(st == Status::ModelInvalid && contains(m, "arch.nope") && contains(m, "missing"));
  m = error_of([&] { fm::require(Json::make_number(1), "x", "meta.x"); });
  CHECK(contains(m, "meta.x") && contains(m, "not an object"));

  CHECK(fm::require_number(o, "half", "arch.half") == 2.5);
  m = error_of([&] { fm::require_number(o, "s", "arch.s"); });
  CHECK(contains(m, "arch.s") && contains(m, "number"));
  m = error_of([&] { fm::require_number(o, "nan", "arch.nan"); });
  CHECK(contains(m, "arch.nan") && contains(m, "finite"));
  CHECK(fm::require_string(o, "s", "meta.s") == "hello");
  m = error_of([&] { fm::require_string(o, "i", "meta.i"); });
  CHECK(contains(m, "meta.i") && contains(m, "string"));
  CHECK(&fm::require(o, "arr", "arr") == o.find("arr"));
}

// ---- ModelFile: a valid file -------------------------------------------------------------------

static void check_valid_contents(const ModelFile& f, size_t file_size) {
  CHECK_EQ(f.file_bytes(), file_size);
  CHECK_EQ(f.tensors().size(), 4);
  if (f.tensors().size() != 4) return;
  const Tensor& w = f.tensors()[0];
  CHECK(w.name == "fc.weight" && w.shape == std::vector<int64_t>({2, 3}) && w.count == 6);
  bool vals = true;
  for (size_t k = 0; k < 6; ++k) vals = vals && w.data[k] == float(k + 1);
  CHECK(vals);
  const Tensor* b = f.find("fc.bias");
  CHECK(b && b->shape == std::vector<int64_t>({3}) && b->count == 3);
  if (b) CHECK(b->data[0] == -0.5f && b->data[1] == 0.25f && b->data[2] == 1e-3f);
  const Tensor* s = f.find("stats.lo");
  CHECK(s && s->shape.empty() && s->count == 1 && s->data[0] == 42.0f);
  const Tensor* e = f.find("empty");
  CHECK(e && e->count == 0 && e->shape == std::vector<int64_t>({0, 5}));
  CHECK(f.find("nope") == nullptr && f.find("") == nullptr && f.find("fc") == nullptr);
  bool aligned = true;
  for (const Tensor& t : f.tensors())
    aligned = aligned && reinterpret_cast<uintptr_t>(t.data) % 64 == 0;
  CHECK(aligned);

  CHECK(f.meta().is_object() && f.architecture().is_object());
  CHECK_EQ(fm::require_int(f.meta(), "sample_rate", "meta.sample_rate", 8000, 384000), 48000);
  CHECK(f.meta().find("fmax") && f.meta().find("fmax")->is_null());
  CHECK(fm::require_string(f.meta(), "name", "meta.name") == "caf\xC3\xA9");
  CHECK(fm::require_string(f.architecture(), "kind", "architecture.kind") == "clip_decoder");
  CHECK(fm::require_number(f.architecture(), "leaky_slope", "architecture.leaky_slope") == 0.2);
  CHECK(f.header().find("onnx_content_hash") && f.header().find("future_key"));
}

static void test_valid_roundtrip() {
  const Bytes file = valid_file();
  std::string err = error_of(
      [&] { check_valid_contents(ModelFile::parse(file.data(), file.size()), file.size()); });
  CHECK(err.empty());
  if (!err.empty()) fprintf(stderr, "  valid file refused: %s\n", err.c_str());

  // The input buffer at an odd address: the copy is aligned regardless.
  Bytes shifted(file.size() + 1);
  std::memcpy(shifted.data() + 1, file.data(), file.size());
  err = error_of([&] {
    check_valid_contents(ModelFile::parse(shifted.data() + 1, file.size()), file.size());
  });
  CHECK(err.empty());

  // Copies share the data, which outlives the original and the input bytes.
  ModelFile copy = [&] {
    Bytes tmp = file;
    ModelFile f = ModelFile::parse(tmp.data(), tmp.size());
    ModelFile c = f;
    std::fill(tmp.begin(), tmp.end(), 0xFF);
    return c;
  }();
  check_valid_contents(copy, file.size());

  // Minimal files: no tensors and no data; a data section that is not a multiple of 4.
  const Bytes empty = assemble(header("[]"), {});
  err = error_of([&] {
    ModelFile f = ModelFile::parse(empty.data(), empty.size());
    CHECK(f.tensors().empty() && f.find("x") == nullptr);
  });
  CHECK(err.empty());
  const Bytes odd =
      assemble(header("[" + entry("a", "[2]", 64) + "]"), data_section(74, {{64, {7, 8}}}));
  err = error_of([&] {
    ModelFile f = ModelFile::parse(odd.data(), odd.size());
    CHECK(f.find("a") && f.find("a")->data[1] == 8.0f);
  });
  CHECK(err.empty());

  // Offsets in any order, adjacent tensors, zero-size tensors anywhere (even at the end or on
  // top of another), a zero dimension beside huge ones, rank 4, a 256-byte name.
  const std::string long_name(fm::kMaxNameBytes, 'n');
  const std::string t = "[" + entry("late", "[16]", 64) + "," + entry("early", "[16]", 0) + "," +
                        entry("z", "[0]", 128) + "," +
                        entry("z2", "[0,2147483647,2147483647,2147483647]", 64) + "," +
                        entry("r4", "[1,1,1,1]", 128) + "," + entry(long_name, "[]", 192) + "]";
  const Bytes many = assemble(header(t), data_section(196, {{64, std::vector<float>(16, 1.5f)}}));
  err = error_of([&] {
    ModelFile f = ModelFile::parse(many.data(), many.size());
    CHECK(f.tensors().size() == 6 && f.find("late")->data[15] == 1.5f && f.find("z2")->count == 0);
    CHECK(f.find(long_name) && f.find(long_name)->count == 1);
    CHECK(f.tensors()[0].name == "late");  // table order is kept
  });
  CHECK(err.empty());
  if (!err.empty()) fprintf(stderr, "  valid variants refused: %s\n", err.c_str());

  // The most tensors allowed.
  std::string big = "[";
  for (size_t k = 0; k < fm::kMaxTensors; ++k)
    big += (k ? "," : "") + entry("t" + std::to_string(k), "[0]", 0);
  const Bytes most = assemble(header(big + "]"), {});
  err = error_of([&] {
    CHECK_EQ(ModelFile::parse(most.data(), most.size()).tensors().size(), fm::kMaxTensors);
  });
  CHECK(err.empty());
  // A default-constructed ModelFile answers with an error, not a crash.
  Status st = Status::Ok;
  error_of([&] { ModelFile().meta(); }, &st);
  CHECK(st == Status::InvalidArgument);
}

// ---- ModelFile: damaged containers ----------------------------------------------------------

static void test_truncation_and_bit_flips() {
  const Bytes file = valid_file();
  // Every length short of the whole file.
  size_t bad = 0;
  for (size_t n = 0; n < file.size(); ++n) {
    Bytes cut(file.begin(), file.begin() + n);
    if (!refused(cut, "truncated", "truncated to " + std::to_string(n), {}, bad > 3)) ++bad;
  }
  CHECK_EQ(bad, 0);
  CHECK(refused(Bytes(), "truncated", "empty"));
  CHECK(contains(error_of([] { ModelFile::parse(nullptr, 0); }), "truncated"));

  // One flipped bit anywhere: always refused; past the fixed header, by the checksum.
  bad = 0;
  size_t flips = 0;
  for (size_t at = 0; at < file.size(); ++at)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes f = file;
      f[at] ^= uint8_t(1u << bit);
      ++flips;
      const std::string word = at >= 32 ? "checksum" : "";
      const std::string label = "bit " + std::to_string(bit) + " of byte " + std::to_string(at);
      if (!refused(f, word, label, {}, bad > 3)) ++bad;
    }
  CHECK_EQ(bad, 0);
  CHECK_EQ(flips, file.size() * 8);
}

static void test_bad_headers() {
  const Bytes file = valid_file();
  const size_t ds = data_start_of(file);
  Bytes f;

  f = file;
  f[0] = 'X';
  CHECK_REFUSED(f, "bad magic", "magic");
  f = file;
  f[7] = '1';
  CHECK_REFUSED(f, "bad magic", "magic NUL");

  f = file;
  put_u32(f, 8, 2);
  CHECK_REFUSED(f, "format version 2 is not supported; this runtime reads version 1", "version 2");
  f = file;
  put_u32(f, 8, 0);
  CHECK_REFUSED(f, "version 0", "version 0");

  for (uint32_t jb : {0u, 1u, fm::kMaxJsonBytes + 1, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
    f = file;
    put_u32(f, 12, jb);
    CHECK_REFUSED(f, "JSON header length", "json_bytes " + std::to_string(jb));
  }
  // In range but inconsistent with the file: it moves data_start, so the sizes disagree.
  f = file;
  put_u32(f, 12, fm::kMaxJsonBytes);
  CHECK_REFUSED(f, "truncated", "json_bytes at the limit");

  // Hostile data sizes fail the size limit before anything is allocated.
  for (uint64_t db : {UINT64_MAX, uint64_t(1) << 63, fm::kMaxFileBytes + 1, fm::kMaxFileBytes,
                      fm::kMaxFileBytes - 64, UINT64_MAX - 63}) {
    f = file;
    put_u64(f, 16, db);
    g_track = true;
    g_largest = 0;
    CHECK_REFUSED(f, "exceeds the size limit", "data_bytes " + std::to_string(db));
    g_track = false;
    CHECK(g_largest < 4096);
  }
  f = file;
  put_u64(f, 16, fm::kMaxFileBytes - ds);  // at the limit: a plain size mismatch
  CHECK_REFUSED(f, "truncated", "data_bytes at the limit");
  f = file;
  put_u64(f, 16, file.size() - ds - 1);
  CHECK_REFUSED(f, "trailing bytes", "data_bytes one short");

  f = file;
  f.push_back(0);
  fix_checksum(f);
  CHECK_REFUSED(f, "1 trailing bytes", "one trailing byte");
  f = file;
  f.insert(f.end(), 64, 0);
  fix_checksum(f);
  CHECK_REFUSED(f, "trailing bytes", "64 trailing bytes");

  // Checksum: a wrong one is refused unless verification is off.
  f = file;
  f[24] ^= 1;
  CHECK_REFUSED(f, "checksum mismatch", "checksum");
  ParseOptions nocheck;
  nocheck.verify_checksum = false;
  CHECK(error_of([&] { ModelFile::parse(f.data(), f.size(), nocheck); }).empty());

  // Nonzero padding between the JSON and the data, found with or without the checksum.
  uint32_t json_bytes = 0;
  for (int k = 0; k < 4; ++k) json_bytes |= uint32_t(file[12 + k]) << (8 * k);
  CHECK(32 + json_bytes < ds);  // the test file has padding
  for (size_t at : {size_t(32 + json_bytes), ds - 1}) {
    f = file;
    f[at] = 0x20;  // even a space, which JSON would skip
    fix_checksum(f);
    CHECK_REFUSED(f, "nonzero padding byte at offset " + std::to_string(at), "padding");
    CHECK(refused(f, "padding", "padding, no checksum", nocheck));
  }
  // json_bytes reaching into the padding: the NUL is not JSON.
  f = file;
  put_u32(f, 12, json_bytes + 1);
  CHECK_REFUSED(f, "JSON", "json_bytes into padding");
}

static void test_bad_json_in_file() {
  const char* texts[] = {
      "{\"format\":\"foleykit-native\",",                                   // unterminated object
      "{\"format\":\"foleykit-native}",                                     // unterminated string
      "{\"format\":\"foleykit\\q\"}",                                       // bad escape
      "{\"format\":\"\\ud800\"}",                                           // lone surrogate
      "{\"version\":01}",                                                   // leading zero
      "{\"tensors\":[],}",                                                  // trailing comma
      "{\"a\":1,\"a\":1}",                                                  // duplicate key
      "{\"a\":[1,2,]}",                                                     // trailing comma
      "{\"a\":NaN}",                                                        // not JSON
      "{\"a\":1e999}",                                                      // overflow
      "{\"a\":\"tab\there\"}",                                              // control char
      "{\"a\":1}}",                                                         // trailing garbage
      "{'a':1}",                                                            // single quotes
      "{\"a\":tru}",                                                        // bad literal
  };
  int k = 0;
  for (const char* t : texts)
    CHECK_REFUSED(assemble(t, {}), "at byte", "bad JSON #" + std::to_string(k++));
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  CHECK_REFUSED(assemble(deep, {}), "nesting too deep", "1000 levels");
  CHECK_REFUSED(assemble("{\"a\":1}", {}), "format", "JSON with no format");
  CHECK_REFUSED(assemble("{}", {}), "format", "2-byte JSON");
  CHECK_REFUSED(assemble("[]", {}), "not an object", "JSON array");
  CHECK_REFUSED(assemble("\"foleykit-native\"", {}), "not an object", "JSON string");
  CHECK_REFUSED(assemble(std::string("{\"a\":1}\0", 8), {}), "JSON", "NUL in JSON");
}

static void test_bad_header_fields() {
  // A header from its top-level values (JSON text); an empty one leaves that key out.
  auto doc = [](const std::string& format, const std::string& version, const std::string& meta,
                const std::string& arch, const std::string& tensors) {
    std::string s;
    auto add = [&](const char* key, const std::string& v) {
      if (!v.empty()) s += (s.empty() ? "{\"" : ",\"") + std::string(key) + "\":" + v;
    };
    add("format", format);
    add("version", version);
    add("meta", meta);
    add("architecture", arch);
    add("tensors", tensors);
    return assemble(s + "}", data_section(64, {}));
  };
  const std::string fmt = "\"foleykit-native\"";
  CHECK(error_of([&] {
          const Bytes f = doc(fmt, "1", "{}", "{}", "[]");
          ModelFile::parse(f.data(), f.size());
        }).empty());
  CHECK_REFUSED(doc("\"onnx\"", "1", "{}", "{}", "[]"), "\"format\" is not \"foleykit-native\"",
                "wrong format");
  CHECK_REFUSED(doc("1", "1", "{}", "{}", "[]"), "\"format\"", "format a number");
  CHECK_REFUSED(doc("", "1", "{}", "{}", "[]"), "\"format\"", "format missing");
  CHECK_REFUSED(doc(fmt, "2", "{}", "{}", "[]"), "\"version\"", "JSON version 2");
  CHECK_REFUSED(doc(fmt, "1.5", "{}", "{}", "[]"), "\"version\"", "JSON version 1.5");
  CHECK_REFUSED(doc(fmt, "\"1\"", "{}", "{}", "[]"), "\"version\"", "JSON version a string");
  CHECK_REFUSED(doc(fmt, "", "{}", "{}", "[]"), "\"version\"", "JSON version missing");
  CHECK_REFUSED(doc(fmt, "1", "", "{}", "[]"), "\"meta\"", "meta missing");
  CHECK_REFUSED(doc(fmt, "1", "[]", "{}", "[]"), "\"meta\"", "meta an array");
  CHECK_REFUSED(doc(fmt, "1", "{}", "\"x\"", "[]"), "\"architecture\"", "architecture a string");
  CHECK_REFUSED(doc(fmt, "1", "{}", "", "[]"), "\"architecture\"", "architecture missing");
  CHECK_REFUSED(doc(fmt, "1", "{}", "{}", ""), "\"tensors\"", "tensors missing");
  CHECK_REFUSED(doc(fmt, "1", "{}", "{}", "{}"), "\"tensors\"", "tensors an object");
  CHECK_REFUSED(doc(fmt, "1", "{}", "{}", "null"), "\"tensors\"", "tensors null");
}

static void test_bad_tensor_tables() {
  // Each case: a tensor table, the data section size, and a word the message must hold.
  struct Case {
    std::string label, tensors;
    size_t data_bytes;
    std::string word;
  };
  auto one = [](const std::string& shape, long long offset) {
    return "[" + entry("w", shape, offset) + "]";
  };
  auto two = [](const std::string& a, const std::string& b) { return "[" + a + "," + b + "]"; };
  auto three = [](const std::string& a, const std::string& b, const std::string& c) {
    return "[" + a + "," + b + "," + c + "]";
  };
  auto raw = [](const std::string& fields) {  // a hand-written entry for tensor 'w'
    return R"([{"name":"w","dtype":"float32")" + fields + "}]";
  };
  const std::string n257(fm::kMaxNameBytes + 1, 'n');
  const std::string huge = "[2147483647,2147483647,2147483647]";
  const Case cases[] = {
      {"entry not an object", "[1]", 64, "tensors[0] is not an object"},
      {"name missing", R"([{"dtype":"float32","shape":[1],"offset":0}])", 64, "tensors[0].name"},
      {"name a number", R"([{"name":5,"shape":[1],"offset":0}])", 64, "tensors[0].name"},
      {"name empty", "[" + entry("", "[1]", 0) + "]", 64, "tensors[0].name is empty"},
      {"name too long", two(entry("a", "[1]", 0), entry(n257, "[1]", 64)), 128,
       "tensors[1].name is longer than 256"},
      {"duplicate names",
       three(entry("w", "[1]", 0), entry("v", "[1]", 64), entry("w", "[1]", 128)),
       192, "duplicate tensor name 'w'"},
      {"dtype float16", "[" + entry("w", "[1]", 0, "float16") + "]", 64, "dtype 'float16'"},
      {"dtype missing", R"([{"name":"w","shape":[1],"offset":0}])", 64, "'w': dtype"},
      {"shape missing", raw(R"(,"offset":0)"), 64, "'w': shape"},
      {"shape a number", one("4", 0), 64, "'w': shape"},
      {"rank 5", one("[1,1,1,1,1]", 0), 64, "rank 5"},
      {"negative dim", one("[2,-1]", 0), 64, "'w': dimension 1 is outside [0, 2147483647]"},
      {"dim 2^31", one("[2147483648]", 0), 64, "'w': dimension 0 is outside"},
      {"dim 2.5", one("[2.5]", 0), 64, "dimension 0 must be an integer"},
      {"dim a string", one("[\"4\"]", 0), 64, "dimension 0 must be an integer"},
      {"dim 1e300", one("[1e300]", 0), 64, "dimension 0"},
      {"product overflows", one(huge, 0), 64, "overflows 64 bits"},
      {"product 2^64", one("[65536,65536,65536,65536]", 0), 64, "overflows 64 bits"},
      {"product 2^62 bytes", one("[1073741824,1073741824]", 0), 64, "past the end"},
      {"huge count", one("[65536,65536,65536]", 0), 64, "past the end"},
      {"offset missing", raw(R"(,"shape":[1])"), 64, "'w': offset is missing"},
      {"offset unaligned", one("[1]", 4), 64, "offset 4 is not aligned"},
      {"offset 32", one("[1]", 32), 128, "not aligned"},
      {"offset negative", one("[1]", -64), 64, "'w': offset"},
      {"offset fractional", raw(R"(,"shape":[1],"offset":64.5)"), 128, "offset must be an integer"},
      {"offset 1e30", raw(R"(,"shape":[1],"offset":1e30)"), 128, "'w': offset"},
      {"offset a string", raw(R"(,"shape":[1],"offset":"0")"), 64, "offset must be an integer"},
      {"past the end", one("[32]", 64), 128, "past the end"},
      {"past the end by one", one("[17]", 64), 131, "past the end"},
      {"offset past the end", one("[]", 128), 128, "past the end"},
      {"empty past the end", one("[0]", 192), 128, "past the end"},
      {"overlap", two(entry("a", "[32]", 0), entry("b", "[1]", 64)), 256, "overlap"},
      {"overlap unsorted",
       three(entry("b", "[20]", 64), entry("a", "[1]", 128), entry("c", "[1]", 0)),
       256, "tensors 'b' and 'a' overlap"},
      {"same offset", two(entry("a", "[1]", 0), entry("b", "[1]", 0)), 64, "overlap"},
      {"contained", two(entry("a", "[64]", 0), entry("b", "[1]", 128)), 256, "overlap"},
  };
  for (const Case& c : cases)
    CHECK_REFUSED(assemble(header(c.tensors), data_section(c.data_bytes, {})), c.word, c.label);

  std::string many = "[";
  for (size_t k = 0; k <= fm::kMaxTensors; ++k)
    many += (k ? "," : "") + entry("t" + std::to_string(k), "[0]", 0);
  CHECK_REFUSED(assemble(header(many + "]"), {}), "4097 tensors, more than the limit of 4096",
                "too many tensors");
}

static void test_non_finite_values() {
  const std::string t = "[" + entry("a", "[4]", 0) + "," + entry("b", "[2,4]", 64) + "]";
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float snan = std::numeric_limits<float>::signaling_NaN();
  struct Case {
    const char* label;
    float value;
  };
  for (const Case& c : {Case{"NaN", nan}, Case{"-NaN", -nan}, Case{"sNaN", snan},
                        Case{"+Inf", inf}, Case{"-Inf", -inf}}) {
    std::vector<float> b(8, 1.0f);
    b[3] = c.value;
    const Bytes f = assemble(header(t), data_section(96, {{0, {1, 2, 3, 4}}, {64, b}}));
    CHECK_REFUSED(f, "tensor 'b' has a non-finite value (NaN or Inf) at index 3", c.label);
    ParseOptions nocheck;
    nocheck.verify_checksum = false;
    CHECK(refused(f, "non-finite", std::string(c.label) + ", no checksum", nocheck));
  }
  // Non-finite bytes outside every tensor are not weights: accepted.
  std::vector<float> gap(4, nan);
  const std::vector<float> zeros(8, 0.0f);
  const Bytes ok =
      assemble(header(t), data_section(96, {{0, {1, 2, 3, 4}}, {16, gap}, {64, zeros}}));
  CHECK(error_of([&] { ModelFile::parse(ok.data(), ok.size()); }).empty());
  // The largest finite value and subnormals are fine.
  const float big = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const Bytes edge = assemble(header("[" + entry("a", "[3]", 0) + "]"),
                              data_section(12, {{0, {big, -tiny, -0.0f}}}));
  CHECK(error_of([&] { ModelFile::parse(edge.data(), edge.size()); }).empty());
}

// ---- ModelFile::load -----------------------------------------------------------------------

static void test_load() {
  namespace fs = std::filesystem;
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  const fs::path dir = fs::temp_directory_path() / ("fk_test_model_file_" + std::to_string(stamp));
  fs::create_directories(dir);
  auto write = [](const fs::path& p, const Bytes& b) {
    std::ofstream o(p, std::ios::binary);
    o.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  };

  const Bytes file = valid_file();
  const fs::path good = dir / "good.fkm";
  write(good, file);
  std::string err =
      error_of([&] { check_valid_contents(ModelFile::load(good.string()), file.size()); });
  CHECK(err.empty());
  if (!err.empty()) fprintf(stderr, "  load: %s\n", err.c_str());

  Status st = Status::Ok;
  const std::string missing = (dir / "missing.fkm").string();
  err = error_of([&] { ModelFile::load(missing); }, &st);
  CHECK(st == Status::Io && contains(err, missing) && contains(err, "No such file"));

  st = Status::Ok;
  err = error_of([&] { ModelFile::load(dir.string()); }, &st);
  CHECK(st == Status::Io && contains(err, dir.string()));

  // A damaged file: ModelInvalid, and the message names the path.
  const fs::path cut = dir / "cut.fkm";
  write(cut, Bytes(file.begin(), file.begin() + 100));
  st = Status::Ok;
  err = error_of([&] { ModelFile::load(cut.string()); }, &st);
  CHECK(st == Status::ModelInvalid && contains(err, "truncated") && contains(err, cut.string()));

  const fs::path empty = dir / "empty.fkm";
  write(empty, {});
  st = Status::Ok;
  err = error_of([&] { ModelFile::load(empty.string()); }, &st);
  CHECK(st == Status::ModelInvalid && contains(err, "truncated"));

  // Over the size limit (a sparse file): refused from its size, before reading or allocating.
  const fs::path huge = dir / "huge.fkm";
  write(huge, file);
  std::error_code ec;
  fs::resize_file(huge, fm::kMaxFileBytes + 1, ec);
  if (!ec) {
    st = Status::Ok;
    g_track = true;
    g_largest = 0;
    err = error_of([&] { ModelFile::load(huge.string()); }, &st);
    g_track = false;
    CHECK(st == Status::ModelInvalid && contains(err, "too large") && contains(err, huge.string()));
    CHECK(g_largest < 65536);
  } else {
    fprintf(stderr, "  (skipped the over-size file: %s)\n", ec.message().c_str());
  }
  fs::remove_all(dir, ec);
}

int main() {
  test_json_values();
  test_json_strings();
  test_json_errors();
  test_json_builders_and_require();
  test_valid_roundtrip();
  test_truncation_and_bit_flips();
  test_bad_headers();
  test_bad_json_in_file();
  test_bad_header_fields();
  test_bad_tensor_tables();
  test_non_finite_values();
  test_load();
  return fk_check_summary("test_model_file");
}

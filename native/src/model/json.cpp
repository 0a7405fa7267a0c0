// A strict RFC 8259 JSON reader for the .fkm header (model_file.hpp), written for untrusted
// input: every read is bounds-checked against the text, nesting is capped at kMaxJsonDepth
// (so the recursion is bounded), numbers follow the JSON grammar exactly and must fit a double,
// strings must be properly escaped (\uXXXX surrogate pairs become UTF-8; lone surrogates are
// refused), and an object may not repeat a key. Errors say what is wrong and at which byte.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <locale>
#include <sstream>

#include "model/model_file.hpp"

namespace fk::model {

namespace {

[[noreturn]] void invalid(const std::string& what) { throw Error(Status::ModelInvalid, what); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Appends code point cp (<= 0x10FFFF, not a surrogate) as UTF-8.
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// True if a token that matched the JSON number grammar has a magnitude below 1 (or is zero):
// then a conversion that is out of range underflowed rather than overflowed.
bool below_one(const char* first, const char* last) {
  const char* p = first + (*first == '-');
  const char* q = p;
  while (q < last && is_digit(*q)) ++q;
  int64_t pos = (q - p) - 1;  // the decimal order of the digit at p: 10^pos
  int64_t order = 0;          // that of the first nonzero digit
  bool seen = false;
  for (; p < last && *p != 'e' && *p != 'E'; ++p) {
    if (*p == '.') continue;
    if (*p != '0' && !seen) {
      seen = true;
      order = pos;
    }
    --pos;
  }
  if (!seen) return true;  // zero, whatever the exponent
  int64_t exp = 0;
  bool neg = false;
  if (p < last) {  // exponent: saturate, its digits may be many
    ++p;
    if (*p == '+' || *p == '-') neg = (*p++ == '-');
    for (; p < last; ++p) exp = std::min<int64_t>(exp * 10 + (*p - '0'), int64_t(1) << 40);
  }
  return order + (neg ? -exp : exp) < 0;
}

// Converts a token that already matched the JSON number grammar. Locale-independent: a host
// application (a game engine, a UI toolkit) may have set a locale whose decimal mark is ','.
// A magnitude too small for a double becomes (signed) zero; one too large is refused.
bool to_double(const char* first, const char* last, double* out) {
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  const auto r = std::from_chars(first, last, *out, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range && r.ptr == last && below_one(first, last)) {
    *out = *first == '-' ? -0.0 : 0.0;
    return true;
  }
  return r.ec == std::errc() && r.ptr == last;
#else
  // Standard libraries without floating-point from_chars: a stream in the classic locale.
  std::istringstream s(std::string(first, last));
  s.imbue(std::locale::classic());
  s >> *out;
  if (s.fail() && below_one(first, last)) {
    *out = *first == '-' ? -0.0 : 0.0;
    return true;
  }
  return !s.fail() && s.peek() == std::char_traits<char>::eof();
#endif
}

std::string describe_byte(unsigned char c) {
  char buf[32];
  if (c >= 0x20 && c < 0x7F)
    std::snprintf(buf, sizeof buf, "'%c'", char(c));
  else
    std::snprintf(buf, sizeof buf, "byte 0x%02X", unsigned(c));
  return buf;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text.data()), n_(text.size()) {}

  Json document() {
    skip_ws();
    Json v = value(0);
    skip_ws();
    if (i_ < n_) fail("unexpected " + describe_byte(byte()) + " after the JSON value");
    return v;
  }

 private:
  const char* s_;
  size_t n_;
  size_t i_ = 0;  // the next byte to read; every access checks i_ < n_ first

  [[noreturn]] void fail_at(const std::string& what, size_t pos) const {
    invalid("JSON: " + what + " at byte " + std::to_string(pos));
  }
  [[noreturn]] void fail(const std::string& what) const { fail_at(what, i_); }
  unsigned char byte() const { return static_cast<unsigned char>(s_[i_]); }

  void skip_ws() {
    while (i_ < n_ && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  void expect(char c, const char* what) {
    if (i_ >= n_) fail(std::string("unexpected end of text, expected ") + what);
    if (s_[i_] != c) fail("unexpected " + describe_byte(byte()) + ", expected " + what);
    ++i_;
  }

  // depth: how many arrays/objects enclose this value.
  Json value(size_t depth) {
    if (i_ >= n_) fail("unexpected end of text, expected a value");
    switch (s_[i_]) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return Json::make_string(string());
      case 't':
        literal("true");
        return Json::make_bool(true);
      case 'f':
        literal("false");
        return Json::make_bool(false);
      case 'n':
        literal("null");
        return Json::make_null();
      default:
        if (s_[i_] == '-' || is_digit(s_[i_])) return Json::make_number(number());
        fail("unexpected " + describe_byte(byte()) + ", expected a value");
    }
  }

  void literal(const char* word) {
    const size_t len = std::strlen(word);
    if (n_ - i_ < len || std::memcmp(s_ + i_, word, len) != 0)
      fail(std::string("invalid literal (expected '") + word + "')");
    i_ += len;
  }

  void check_depth(size_t depth) const {
    if (depth > kMaxJsonDepth)
      fail("nesting too deep (more than " + std::to_string(kMaxJsonDepth) + " levels)");
  }

  Json array(size_t depth) {
    check_depth(depth);
    ++i_;  // '['
    std::vector<Json> items;
    skip_ws();
    if (i_ < n_ && s_[i_] == ']') {
      ++i_;
      return Json::make_array(std::move(items));
    }
    for (;;) {
      skip_ws();
      items.push_back(value(depth));
      skip_ws();
      if (i_ >= n_) fail("unterminated array");
      if (s_[i_] == ']') {
        ++i_;
        break;
      }
      expect(',', "',' or ']'");
      skip_ws();
      if (i_ < n_ && s_[i_] == ']') fail("trailing comma in array");
    }
    return Json::make_array(std::move(items));
  }

  Json object(size_t depth) {
    check_depth(depth);
    ++i_;  // '{'
    std::vector<std::pair<std::string, Json>> members;
    std::vector<size_t> key_pos;  // where each key starts, for the duplicate-key message
    skip_ws();
    if (i_ < n_ && s_[i_] == '}') {
      ++i_;
      return Json::make_object(std::move(members));
    }
    for (;;) {
      skip_ws();
      if (i_ >= n_) fail("unterminated object");
      if (s_[i_] != '"') fail("unexpected " + describe_byte(byte()) + ", expected a string key");
      key_pos.push_back(i_);
      std::string key = string();
      skip_ws();
      expect(':', "':'");
      skip_ws();
      Json v = value(depth);
      members.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (i_ >= n_) fail("unterminated object");
      if (s_[i_] == '}') {
        ++i_;
        break;
      }
      expect(',', "',' or '}'");
      skip_ws();
      if (i_ < n_ && s_[i_] == '}') fail("trailing comma in object");
    }
    check_unique_keys(members, key_pos);
    return Json::make_object(std::move(members));
  }

  // Sorting keeps this O(n log n): a hostile header may hold an object with 100k keys.
  void check_unique_keys(const std::vector<std::pair<std::string, Json>>& members,
                         const std::vector<size_t>& key_pos) const {
    if (members.size() < 2) return;
    std::vector<size_t> order(members.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return members[a].first != members[b].first ? members[a].first < members[b].first : a < b;
    });
    size_t dup = members.size();  // the earliest repeated key, in document order
    for (size_t k = 1; k < order.size(); ++k)
      if (members[order[k]].first == members[order[k - 1]].first) dup = std::min(dup, order[k]);
    if (dup < members.size())
      fail_at("duplicate key \"" + members[dup].first + "\" in object", key_pos[dup]);
  }

  // Four hex digits of a \u escape; `esc` is where the escape began (for messages).
  uint32_t hex4(size_t esc) {
    if (n_ - i_ < 4) fail_at("truncated \\u escape", esc);
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      uint32_t d;
      if (c >= '0' && c <= '9')
        d = uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = uint32_t(c - 'A' + 10);
      else
        fail_at("invalid \\u escape (expected 4 hex digits)", esc);
      v = v * 16 + d;
    }
    return v;
  }

  std::string string() {
    const size_t start = i_;
    ++i_;  // opening quote
    std::string out;
    for (;;) {
      if (i_ >= n_) fail_at("unterminated string", start);
      const unsigned char c = byte();
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c < 0x20) fail("unescaped control character (" + describe_byte(c) + ") in string");
      if (c != '\\') {
        // A run of plain bytes. UTF-8 (valid or not) passes through unchanged.
        size_t j = i_;
        while (j < n_ && s_[j] != '"' && s_[j] != '\\' && static_cast<unsigned char>(s_[j]) >= 0x20)
          ++j;
        out.append(s_ + i_, j - i_);
        i_ = j;
        continue;
      }
      const size_t esc = i_++;
      if (i_ >= n_) fail_at("unterminated string", start);
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4(esc);
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at("lone low surrogate in \\u escape", esc);
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed at once by an escaped low surrogate.
            if (n_ - i_ < 2 || s_[i_] != '\\' || s_[i_ + 1] != 'u')
              fail_at("lone high surrogate in \\u escape", esc);
            const size_t esc2 = i_;
            i_ += 2;
            const uint32_t lo = hex4(esc2);
            if (lo < 0xDC00 || lo > 0xDFFF)
              fail_at("high surrogate not followed by a low surrogate", esc);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail_at("invalid escape \\" + (static_cast<unsigned char>(e) >= 0x20 &&
                                                 static_cast<unsigned char>(e) < 0x7F
                                             ? std::string(1, e)
                                             : describe_byte(static_cast<unsigned char>(e))) +
                      " in string",
                  esc);
      }
    }
  }

  // number = [ "-" ] ( "0" / [1-9] *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
  double number() {
    const size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (i_ >= n_ || !is_digit(s_[i_])) fail("expected a digit in number");
    if (s_[i_] == '0') {
      ++i_;
      if (i_ < n_ && is_digit(s_[i_])) fail_at("leading zero in number", start);
    } else {
      while (i_ < n_ && is_digit(s_[i_])) ++i_;
    }
    if (i_ < n_ && s_[i_] == '.') {
      ++i_;
      if (i_ >= n_ || !is_digit(s_[i_])) fail("expected a digit after the decimal point");
      while (i_ < n_ && is_digit(s_[i_])) ++i_;
    }
    if (i_ < n_ && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < n_ && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= n_ || !is_digit(s_[i_])) fail("expected a digit in the exponent");
      while (i_ < n_ && is_digit(s_[i_])) ++i_;
    }
    double v = 0.0;
    if (!to_double(s_ + start, s_ + i_, &v) || !std::isfinite(v))
      fail_at("number out of the range of a double", start);
    return v;
  }
};

const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "a boolean";
    case Json::Type::Number: return "a number";
    case Json::Type::String: return "a string";
    case Json::Type::Array: return "an array";
    case Json::Type::Object: return "an object";
  }
  return "?";
}

std::string format_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

// ---- Json ------------------------------------------------------------------------------------

Json Json::parse(std::string_view text) { return Parser(text).document(); }

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  for (const auto& m : obj_)
    if (m.first == key) return &m.second;
  return nullptr;
}

Json Json::make_null() { return Json(); }

Json Json::make_bool(bool v) {
  Json j;
  j.type_ = Type::Bool;
  j.b_ = v;
  return j;
}

Json Json::make_number(double v) {
  Json j;
  j.type_ = Type::Number;
  j.num_ = v;
  return j;
}

Json Json::make_string(std::string v) {
  Json j;
  j.type_ = Type::String;
  j.str_ = std::move(v);
  return j;
}

Json Json::make_array(std::vector<Json> v) {
  Json j;
  j.type_ = Type::Array;
  j.arr_ = std::move(v);
  return j;
}

Json Json::make_object(std::vector<std::pair<std::string, Json>> v) {
  Json j;
  j.type_ = Type::Object;
  j.obj_ = std::move(v);
  return j;
}

// ---- typed accessors -------------------------------------------------------------------------

const Json& require(const Json& obj, std::string_view key, std::string_view what) {
  if (!obj.is_object())
    invalid(std::string(what) + " is missing: its parent is " + type_name(obj) +
            ", not an object");
  const Json* v = obj.find(key);
  if (!v) invalid(std::string(what) + " is missing");
  return *v;
}

int64_t require_int(const Json& obj, std::string_view key, std::string_view what, int64_t lo,
                    int64_t hi) {
  const Json& v = require(obj, key, what);
  if (!v.is_number())
    invalid(std::string(what) + " must be an integer, not " + type_name(v));
  const double d = v.as_number();
  if (!std::isfinite(d) || std::floor(d) != d)
    invalid(std::string(what) + " must be an integer, not " + format_number(d));
  const std::string range = " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  // Range-check in double first: converting a double outside int64's range is undefined.
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
    invalid(std::string(what) + " = " + format_number(d) + range);
  const int64_t i = static_cast<int64_t>(d);
  if (i < lo || i > hi) invalid(std::string(what) + " = " + std::to_string(i) + range);
  return i;
}

double require_number(const Json& obj, std::string_view key, std::string_view what) {
  const Json& v = require(obj, key, what);
  if (!v.is_number()) invalid(std::string(what) + " must be a number, not " + type_name(v));
  // The parser never yields inf/nan, but a Json built in code could.
  if (!std::isfinite(v.as_number())) invalid(std::string(what) + " must be finite");
  return v.as_number();
}

const std::string& require_string(const Json& obj, std::string_view key, std::string_view what) {
  const Json& v = require(obj, key, what);
  if (!v.is_string()) invalid(std::string(what) + " must be a string, not " + type_name(v));
  return v.as_string();
}

}  // namespace fk::model

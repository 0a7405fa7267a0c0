// Reading and validating a .fkm file (format.hpp). The bytes are untrusted: every size comes
// from the header only after it has been checked against the limits and against the real
// size of the buffer, so nothing is read past the end and nothing is allocated on the word of
// the file alone. The order of the checks is the order of the layout: header fields, sizes,
// checksum, padding, JSON, the tensor table, then the tensor values.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <system_error>

#include <sys/stat.h>

#include "model/model_file.hpp"

namespace fk::model {

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(Status::ModelInvalid, "model file: " + what);
}

uint32_t read_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint64_t read_u64(const uint8_t* p) {
  return uint64_t(read_u32(p)) | uint64_t(read_u32(p + 4)) << 32;
}

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// An integer-valued JSON number in [lo, hi]; `what` names it in the message.
int64_t as_int(const Json& v, const std::string& what, int64_t lo, int64_t hi) {
  if (!v.is_number()) invalid(what + " must be an integer");
  const double d = v.as_number();
  if (!std::isfinite(d) || std::floor(d) != d) invalid(what + " must be an integer");
  // Both bounds are far inside int64, so the cast below is defined.
  if (d < double(lo) || d > double(hi))
    invalid(what + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int64_t>(d);
}

bool is_finite_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);  // bit test: immune to -ffast-math folding isfinite away
  return (u & 0x7F800000u) != 0x7F800000u;
}

// One entry of the tensor table, before its data pointer is known.
struct Entry {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t count = 0;   // elements
  uint64_t offset = 0;  // bytes, data-relative
  uint64_t bytes = 0;   // 4 * count
};

Entry parse_entry(const Json& t, size_t index, uint64_t data_bytes) {
  const std::string where = "tensors[" + std::to_string(index) + "]";
  if (!t.is_object()) invalid(where + " is not an object");
  Entry e;
  const Json* name = t.find("name");
  if (!name || !name->is_string()) invalid(where + ".name is missing or not a string");
  e.name = name->as_string();
  if (e.name.empty()) invalid(where + ".name is empty");
  if (e.name.size() > kMaxNameBytes)
    invalid(where + ".name is longer than " + std::to_string(kMaxNameBytes) + " bytes");
  const std::string what = "tensor '" + e.name + "'";

  const Json* dtype = t.find("dtype");
  if (!dtype || !dtype->is_string()) invalid(what + ": dtype is missing or not a string");
  if (dtype->as_string() != "float32")
    invalid(what + ": dtype '" + dtype->as_string() + "' is not supported (only float32)");

  const Json* shape = t.find("shape");
  if (!shape || !shape->is_array()) invalid(what + ": shape is missing or not an array");
  if (shape->items().size() > kMaxRank)
    invalid(what + ": rank " + std::to_string(shape->items().size()) + " exceeds the maximum " +
            std::to_string(kMaxRank));
  for (size_t d = 0; d < shape->items().size(); ++d)
    e.shape.push_back(as_int(shape->items()[d], what + ": dimension " + std::to_string(d), 0,
                             (int64_t(1) << 31) - 1));
  // The element count, refusing a product that overflows 64 bits. A zero dimension makes the
  // tensor empty whatever the others are, so it is looked for first (order-independent).
  bool overflow = false;
  e.count = std::find(e.shape.begin(), e.shape.end(), 0) != e.shape.end() ? 0 : 1;
  for (const int64_t dim : e.shape) {
    if (e.count != 0 && e.count > UINT64_MAX / uint64_t(dim)) overflow = true;
    e.count *= uint64_t(dim);  // unsigned: wraps harmlessly once overflow is set
  }
  if (overflow) invalid(what + ": the element count of its shape overflows 64 bits");
  if (e.count > data_bytes / sizeof(float))
    invalid(what + ": " + std::to_string(e.count) + " elements run past the end of the " +
            std::to_string(data_bytes) + "-byte data section");
  e.bytes = e.count * sizeof(float);  // no overflow: count <= data_bytes / 4

  const Json* offset = t.find("offset");
  if (!offset) invalid(what + ": offset is missing");
  e.offset = uint64_t(as_int(*offset, what + ": offset", 0, int64_t(kMaxFileBytes)));
  if (e.offset % kAlign != 0)
    invalid(what + ": offset " + std::to_string(e.offset) + " is not aligned to a multiple of " +
            std::to_string(kAlign));
  // bytes <= data_bytes, so the subtraction is safe and the sum is never formed.
  if (e.offset > data_bytes - e.bytes)
    invalid(what + ": bytes [" + std::to_string(e.offset) + ", " +
            std::to_string(e.offset + e.bytes) + ") run past the end of the " +
            std::to_string(data_bytes) + "-byte data section");
  return e;
}

}  // namespace

ModelFile ModelFile::parse(const uint8_t* data, size_t size, const ParseOptions& opt) {
  try {
    // ---- the fixed header ----------------------------------------------------------------
    if (size < kHeaderBytes)
      invalid("truncated: " + std::to_string(size) + " bytes, shorter than the " +
              std::to_string(kHeaderBytes) + "-byte header");
    if (std::memcmp(data, kMagic, sizeof kMagic) != 0)
      invalid("bad magic: not a FoleyKit native model (.fkm) file");
    const uint32_t version = read_u32(data + 8);
    if (version != kFormatVersion)
      invalid("format version " + std::to_string(version) +
              " is not supported; this runtime reads version " + std::to_string(kFormatVersion));
    const uint32_t json_bytes = read_u32(data + 12);
    const uint64_t data_bytes = read_u64(data + 16);
    const uint64_t checksum = read_u64(data + 24);
    if (json_bytes < 2 || json_bytes > kMaxJsonBytes)
      invalid("JSON header length " + std::to_string(json_bytes) + " is outside [2, " +
              std::to_string(kMaxJsonBytes) + "]");
    // json_bytes <= 1 MiB and data_bytes <= kMaxFileBytes are checked before any sum is
    // formed, so none of the arithmetic below can overflow.
    const uint64_t data_start =
        (kHeaderBytes + uint64_t(json_bytes) + kAlign - 1) / kAlign * kAlign;
    if (data_bytes > kMaxFileBytes || data_start + data_bytes > kMaxFileBytes)
      invalid("data section of " + std::to_string(data_bytes) +
              " bytes exceeds the size limit of " + std::to_string(kMaxFileBytes) +
              " bytes per file");
    const uint64_t total = data_start + data_bytes;
    if (uint64_t(size) < total)
      invalid("truncated: " + std::to_string(size) + " bytes, the header says " +
              std::to_string(total));
    if (uint64_t(size) > total)
      invalid(std::to_string(uint64_t(size) - total) + " trailing bytes after the " +
              std::to_string(total) + " the header describes");

    // ---- checksum and padding --------------------------------------------------------------
    if (opt.verify_checksum) {
      const uint64_t h = fnv1a64(data + kHeaderBytes, size - kHeaderBytes);
      if (h != checksum)
        invalid("checksum mismatch (header " + hex64(checksum) + ", content " + hex64(h) +
                "): the file is corrupt");
    }
    for (uint64_t k = kHeaderBytes + json_bytes; k < data_start; ++k)
      if (data[k] != 0) invalid("nonzero padding byte at offset " + std::to_string(k));

    // ---- the JSON header -------------------------------------------------------------------
    ModelFile f;
    f.size_ = size;
    try {
      f.header_ = std::make_shared<Json>(Json::parse(
          std::string_view(reinterpret_cast<const char*>(data + kHeaderBytes), json_bytes)));
    } catch (const Error& e) {
      invalid(std::string("header ") + e.what());  // "header JSON: ... at byte N"
    }
    const Json& h = *f.header_;
    if (!h.is_object()) invalid("the JSON header is not an object");
    const Json* format = h.find("format");
    if (!format || !format->is_string() || format->as_string() != "foleykit-native")
      invalid("header \"format\" is not \"foleykit-native\"");
    const Json* hversion = h.find("version");
    if (!hversion || !hversion->is_number() || hversion->as_number() != 1.0)
      invalid("header \"version\" is missing or not 1 (this runtime reads version 1)");
    const Json* meta = h.find("meta");
    if (!meta || !meta->is_object()) invalid("header \"meta\" is missing or not an object");
    const Json* arch = h.find("architecture");
    if (!arch || !arch->is_object())
      invalid("header \"architecture\" is missing or not an object");
    const Json* tensors = h.find("tensors");
    if (!tensors || !tensors->is_array()) invalid("header \"tensors\" is missing or not an array");
    const std::vector<Json>& table = tensors->items();
    if (table.size() > kMaxTensors)
      invalid(std::to_string(table.size()) + " tensors, more than the limit of " +
              std::to_string(kMaxTensors));

    // ---- the tensor table ------------------------------------------------------------------
    std::vector<Entry> entries;
    entries.reserve(table.size());
    for (size_t k = 0; k < table.size(); ++k)
      entries.push_back(parse_entry(table[k], k, data_bytes));

    // Unique names: sorted index, also kept for find().
    std::vector<uint32_t> by_name(entries.size());
    for (size_t k = 0; k < by_name.size(); ++k) by_name[k] = uint32_t(k);
    std::sort(by_name.begin(), by_name.end(),
              [&](uint32_t a, uint32_t b) { return entries[a].name < entries[b].name; });
    for (size_t k = 1; k < by_name.size(); ++k)
      if (entries[by_name[k]].name == entries[by_name[k - 1]].name)
        invalid("duplicate tensor name '" + entries[by_name[k]].name + "'");

    // No two byte ranges overlap: sorted by offset, each starts at or after the end of the
    // one before. Empty tensors hold no bytes and overlap nothing.
    std::vector<uint32_t> by_offset;
    for (size_t k = 0; k < entries.size(); ++k)
      if (entries[k].bytes > 0) by_offset.push_back(uint32_t(k));
    std::sort(by_offset.begin(), by_offset.end(),
              [&](uint32_t a, uint32_t b) { return entries[a].offset < entries[b].offset; });
    for (size_t k = 1; k < by_offset.size(); ++k) {
      const Entry& prev = entries[by_offset[k - 1]];
      const Entry& cur = entries[by_offset[k]];
      if (cur.offset < prev.offset + prev.bytes)
        invalid("tensors '" + prev.name + "' and '" + cur.name + "' overlap in the data section");
    }

    // ---- the data, copied into 64-byte aligned storage ---------------------------------------
    // data_bytes is now known to be the real size of the data section (<= kMaxFileBytes).
    // Over-allocate by kAlign bytes and start at the first aligned float; tensor offsets are
    // multiples of kAlign, so every tensor's data is aligned too.
    const size_t n_floats = size_t((data_bytes + sizeof(float) - 1) / sizeof(float));
    f.storage_ = std::make_shared<std::vector<float>>(n_floats + kAlign / sizeof(float));
    float* raw = f.storage_->data();
    const size_t misalign = reinterpret_cast<uintptr_t>(raw) % kAlign;  // a multiple of 4
    float* base = raw + (misalign ? (kAlign - misalign) / sizeof(float) : 0);
    if (data_bytes > 0) std::memcpy(base, data + data_start, size_t(data_bytes));

    f.tensors_.reserve(entries.size());
    for (Entry& e : entries) {
      Tensor t;
      t.name = std::move(e.name);
      t.shape = std::move(e.shape);
      t.count = size_t(e.count);
      t.data = base + e.offset / sizeof(float);
      for (size_t k = 0; k < t.count; ++k)
        if (!is_finite_bits(t.data[k]))
          invalid("tensor '" + t.name + "' has a non-finite value (NaN or Inf) at index " +
                  std::to_string(k));
      f.tensors_.push_back(std::move(t));
    }
    f.by_name_ = std::move(by_name);
    return f;
  } catch (const std::bad_alloc&) {
    // Every allocation is bounded by the (capped) file size, but the host may still be short
    // of memory; report it as the library's error rather than a foreign exception.
    throw Error(Status::OutOfMemory, "model file: out of memory while reading the model");
  }
}

ModelFile ModelFile::load(const std::string& path, const ParseOptions& opt) {
  auto io_error = [&](const std::string& what, int err) {
    throw Error(Status::Io, "cannot " + what + " model file '" + path + "': " +
                                std::generic_category().message(err));
  };
  std::FILE* fp = std::fopen(path.c_str(), "rb");
  if (!fp) io_error("open", errno);
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{fp};

  // The size first, so a huge file is refused before anything is allocated for it.
#ifdef _WIN32
  struct _stat64 st;
  if (_fstat64(_fileno(fp), &st) != 0) io_error("stat", errno);
  const bool regular = (st.st_mode & _S_IFMT) == _S_IFREG;
#else
  struct stat st;
  if (fstat(fileno(fp), &st) != 0) io_error("stat", errno);
  const bool regular = S_ISREG(st.st_mode);
#endif
  if (!regular)
    throw Error(Status::Io, "cannot read model file '" + path + "': not a regular file");
  if (st.st_size < 0 || uint64_t(st.st_size) > kMaxFileBytes)
    throw Error(Status::ModelInvalid, "model file '" + path + "' is too large: " +
                                          std::to_string(static_cast<long long>(st.st_size)) +
                                          " bytes, the limit is " + std::to_string(kMaxFileBytes));
  const size_t size = size_t(st.st_size);

  std::vector<uint8_t> bytes;
  try {
    bytes.resize(size);
  } catch (const std::bad_alloc&) {
    throw Error(Status::OutOfMemory, "out of memory reading model file '" + path + "'");
  }
  errno = 0;
  const size_t got = size > 0 ? std::fread(bytes.data(), 1, size, fp) : 0;
  if (got != size && std::ferror(fp)) io_error("read", errno ? errno : EIO);
  // Shorter or longer than its size said: another process is writing it.
  if (got != size || std::fgetc(fp) != EOF)
    throw Error(Status::Io, "cannot read model file '" + path + "': it changed while being read");

  try {
    return parse(bytes.data(), bytes.size(), opt);
  } catch (const Error& e) {
    if (e.status() != Status::ModelInvalid) throw;
    throw Error(e.status(), std::string(e.what()) + " ('" + path + "')");
  }
}

const Json& ModelFile::meta() const {
  const Json* m = header_ ? header_->find("meta") : nullptr;
  if (!m) throw Error(Status::InvalidArgument, "ModelFile: no model file has been parsed");
  return *m;
}

const Json& ModelFile::architecture() const {
  const Json* a = header_ ? header_->find("architecture") : nullptr;
  if (!a) throw Error(Status::InvalidArgument, "ModelFile: no model file has been parsed");
  return *a;
}

const Tensor* ModelFile::find(std::string_view name) const {
  const auto it =
      std::lower_bound(by_name_.begin(), by_name_.end(), name,
                       [&](uint32_t k, std::string_view n) { return tensors_[k].name < n; });
  if (it == by_name_.end() || tensors_[*it].name != name) return nullptr;
  return &tensors_[*it];
}

}  // namespace fk::model

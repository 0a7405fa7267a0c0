// Errors of the offline DSP functions. The codes are the C ABI's fk_result values; the
// message names the problem for a person. Real-time entry points return codes instead.
#pragma once
#include <stdexcept>
#include <string>

namespace fk {

enum class Status : int {
  Ok = 0,
  InvalidArgument = -1,
  NonFinite = -2,
  NegativeMagnitude = -3,
  ShapeMismatch = -4,
  Empty = -5,
  BufferTooSmall = -6,
  OutOfMemory = -7,
  Internal = -8,
  VersionMismatch = -9,
  ModelInvalid = -10,  // a model file that is truncated, corrupt, hostile or inconsistent
  Io = -11,            // a file that cannot be opened or read
  Unsupported = -12,   // a valid model this runtime cannot honour (settings, family, mode)
  Busy = -13,          // a full queue: the engine is behind; nothing was queued, try later
};

class Error : public std::runtime_error {
 public:
  Error(Status s, const std::string& what) : std::runtime_error(what), status_(s) {}
  Status status() const { return status_; }

 private:
  Status status_;
};

}  // namespace fk

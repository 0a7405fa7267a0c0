// What every C ABI source shares: the thread's last error message and the guard that turns
// exceptions into result codes. No C++ exception crosses the C ABI.
#pragma once
#include <exception>
#include <new>
#include <string>

#include "dsp/error.hpp"
#include "foleykit/foleykit.h"

namespace fk::capi {

// The calling thread's last failure message (fk_last_error): a fixed buffer, so reporting an
// error allocates nothing (engines call some of these functions on the audio thread).
constexpr size_t kLastErrorBytes = 1024;
char* last_error();

inline fk_result fail(fk_result r, const char* msg) {
  char* buf = last_error();
  size_t i = 0;
  for (; msg && msg[i] && i + 1 < kLastErrorBytes; ++i) buf[i] = msg[i];
  buf[i] = '\0';
  return r;
}

inline fk_result to_result(Status s) { return static_cast<fk_result>(static_cast<int>(s)); }

// Runs f, mapping every exception to a result code and a message.
template <class F>
fk_result guarded(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    return fail(to_result(e.status()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(FK_RESULT_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(FK_RESULT_INTERNAL, e.what());
  } catch (...) {
    return fail(FK_RESULT_INTERNAL, "unknown internal error");
  }
}

}  // namespace fk::capi

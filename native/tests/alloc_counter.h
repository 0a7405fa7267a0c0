// Counts heap allocations made by the calling thread: every allocation function of the process
// (malloc, calloc, realloc, the aligned ones, every operator new/delete) is replaced by a
// wrapper that counts while the thread is inside begin_count() .. end_count(). Per thread, so
// worker threads of the library under test may allocate while the thread under test may not.
// libfoleykit.so reaches malloc and operator new through the PLT, so its allocations on the
// counting thread land here too (each test verifies that before relying on it).
// glibc only (it provides __libc_malloc and friends); include it once per test executable.
#pragma once
#if defined(__linux__) && defined(__GLIBC__)
#define FK_COUNT_ALLOCS 1
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>


namespace {
thread_local bool t_counting = false;  // static TLS in the executable: no allocation
thread_local long t_allocs = 0, t_frees = 0;
inline void count_alloc() {
  if (t_counting) ++t_allocs;
}
inline void count_free(void* p) {
  if (p && t_counting) ++t_frees;
}
}  // namespace

extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t n) noexcept { count_alloc(); return __libc_malloc(n); }
void free(void* p) noexcept { count_free(p); __libc_free(p); }
void* calloc(size_t a, size_t b) noexcept { count_alloc(); return __libc_calloc(a, b); }
void* realloc(void* p, size_t n) noexcept { count_alloc(); return __libc_realloc(p, n); }
void* aligned_alloc(size_t al, size_t n) noexcept { count_alloc(); return __libc_memalign(al, n); }
void* memalign(size_t al, size_t n) noexcept { count_alloc(); return __libc_memalign(al, n); }
int posix_memalign(void** out, size_t al, size_t n) noexcept {
  count_alloc();
  void* p = __libc_memalign(al, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
}  // extern "C"

void* operator new(size_t n) {
  if (void* p = malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return malloc(n ? n : 1); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return malloc(n ? n : 1); }
void* operator new(size_t n, std::align_val_t al) {
  if (void* p = memalign(static_cast<size_t>(al), n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n, std::align_val_t al) { return operator new(n, al); }
void* operator new(size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return memalign(static_cast<size_t>(al), n ? n : 1);
}
void* operator new[](size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return memalign(static_cast<size_t>(al), n ? n : 1);
}
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { free(p); }

namespace {

// Nothing inside a counted region may print or CHECK (stdio may allocate its buffers).
void begin_count() {
  t_allocs = 0;
  t_frees = 0;
  t_counting = true;
}
void end_count(long* allocs, long* frees) {
  t_counting = false;
  *allocs = t_allocs;
  *frees = t_frees;
}

}  // namespace
#endif

/* Minimal checks shared by the native tests; plain C99 so the C ABI test can use it too.
 * A failed CHECK reports and carries on, so one run shows every broken property; main
 * returns fk_check_summary(), which is non-zero if anything failed (ctest's criterion). */
#ifndef FOLEYKIT_TESTS_CHECK_H
#define FOLEYKIT_TESTS_CHECK_H

#include <stdio.h>

static int fk_check_passed = 0;
static int fk_check_failed = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) {                                                                  \
      ++fk_check_passed;                                                         \
    } else {                                                                     \
      ++fk_check_failed;                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

/* Integer equality that prints both sides, for result codes and lengths. */
#define CHECK_EQ(a, b)                                                                \
  do {                                                                                \
    long long fk_a_ = (long long)(a), fk_b_ = (long long)(b);                         \
    if (fk_a_ == fk_b_) {                                                             \
      ++fk_check_passed;                                                              \
    } else {                                                                          \
      ++fk_check_failed;                                                              \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", __FILE__, \
              __LINE__, #a, #b, fk_a_, fk_b_);                                        \
    }                                                                                 \
  } while (0)

static inline int fk_check_summary(const char* name) {
  printf("%s: %d passed, %d failed\n", name, fk_check_passed, fk_check_failed);
  return fk_check_failed == 0 ? 0 : 1;
}

#endif /* FOLEYKIT_TESTS_CHECK_H */

// Eight-lane float math for the model kernels: exp, sigmoid and erf without libm calls, so the
// element-wise tails of a layer (10 000 sigmoids per clip, 6 000 GELUs per frame) vectorise.
// GCC/Clang vector extensions: AVX with -mavx2, two SSE halves without, NEON on ARM; MSVC
// builds take the scalar loops in the callers.
//
// Accuracy (checked against libm over the whole float range in test_model_kernels):
// exp within 2 ulp, erf within 2e-7 absolute — far inside the 1e-4 the model parity asks.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__GNUC__)
#define FK_HAVE_VEC8 1

namespace fk::model::vec {

typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
// Unaligned, aliasing-safe access to 8 floats.
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

inline v8 load(const float* p) { return *reinterpret_cast<const v8u*>(p); }
inline void store(float* p, v8 v) { *reinterpret_cast<v8u*>(p) = v; }
inline v8 splat(float a) { return v8{a, a, a, a, a, a, a, a}; }
inline v8 vmin(v8 a, v8 b) { return a < b ? a : b; }
inline v8 vmax(v8 a, v8 b) { return a > b ? a : b; }

// e^x; x <= -87.3 gives ~0 (flushes to the smallest normal region), x >= 88.7 saturates.
inline v8 exp(v8 x) {
  x = vmin(vmax(x, splat(-87.33f)), splat(88.72f));
  // n = round(x / ln2) by the 1.5 * 2^23 trick (exact for |n| < 2^22).
  const v8 magic = splat(12582912.0f);
  const v8 n = (x * splat(1.44269504088896341f) + magic) - magic;
  v8 r = x - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  // Cephes expf polynomial on [-ln2/2, ln2/2].
  v8 p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  p = p * r * r + r + splat(1.0f);
  const v8i e = (__builtin_convertvector(n, v8i) + 127) << 23;
  v8 scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

inline v8 sigmoid(v8 x) { return splat(1.0f) / (splat(1.0f) + exp(-x)); }

// erf by Abramowitz & Stegun 7.1.26 refined: |error| < 1.5e-7.
inline v8 erf(v8 x) {
  const v8 ax = vmax(x, -x);
  const v8 t = splat(1.0f) / (splat(1.0f) + splat(0.3275911f) * ax);
  v8 y = splat(1.061405429f);
  y = y * t + splat(-1.453152027f);
  y = y * t + splat(1.421413741f);
  y = y * t + splat(-0.284496736f);
  y = y * t + splat(0.254829592f);
  y = splat(1.0f) - y * t * exp(-ax * ax);
  return x < splat(0.0f) ? -y : y;
}

}  // namespace fk::model::vec
#endif

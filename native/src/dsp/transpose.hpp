// 8x8 float transposes between "one frame per row" and the FFT's interleaved lanes
// (sample i of frame l at work[i*8 + l]). AVX only; the callers keep a scalar path for other
// builds and for the ragged ends, and tests compare both against the plain loops.
#pragma once
#if defined(__AVX__)
#include <immintrin.h>
#define FK_HAVE_AVX_TRANSPOSE 1

namespace fk::dsp {

inline void transpose8(__m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4, __m256& r5,
                       __m256& r6, __m256& r7) {
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r0 = _mm256_permute2f128_ps(u0, u4, 0x20);
  r1 = _mm256_permute2f128_ps(u1, u5, 0x20);
  r2 = _mm256_permute2f128_ps(u2, u6, 0x20);
  r3 = _mm256_permute2f128_ps(u3, u7, 0x20);
  r4 = _mm256_permute2f128_ps(u0, u4, 0x31);
  r5 = _mm256_permute2f128_ps(u1, u5, 0x31);
  r6 = _mm256_permute2f128_ps(u2, u6, 0x31);
  r7 = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// x - x is 0 for a finite x and NaN for NaN or Inf; OR-ing those keeps a NaN's bits, so an
// accumulator of them is unordered (_CMP_UNORD_Q) once any value read was NaN or Inf.
inline __m256 nonfinite_bits(__m256 a, __m256 b) {
  return _mm256_or_ps(_mm256_sub_ps(a, a), _mm256_sub_ps(b, b));
}

// rows[l] + off .. +8 for l = 0..7  ->  dst[j*8 + l] (8 interleaved rows), optionally
// multiplied row-wise by w[j]. With `nonfinite`, it also ORs the nonfinite_bits of every
// value read into it: a NaN/Inf check in the same pass.
inline void rows_to_lanes(const float* const* rows, int64_t off, float* dst, const float* w,
                          __m256* nonfinite = nullptr) {
  __m256 r0 = _mm256_loadu_ps(rows[0] + off), r1 = _mm256_loadu_ps(rows[1] + off);
  __m256 r2 = _mm256_loadu_ps(rows[2] + off), r3 = _mm256_loadu_ps(rows[3] + off);
  __m256 r4 = _mm256_loadu_ps(rows[4] + off), r5 = _mm256_loadu_ps(rows[5] + off);
  __m256 r6 = _mm256_loadu_ps(rows[6] + off), r7 = _mm256_loadu_ps(rows[7] + off);
  if (nonfinite)
    *nonfinite = _mm256_or_ps(*nonfinite, _mm256_or_ps(_mm256_or_ps(nonfinite_bits(r0, r1), nonfinite_bits(r2, r3)),
                                                       _mm256_or_ps(nonfinite_bits(r4, r5), nonfinite_bits(r6, r7))));
  transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
  if (w) {
    r0 = _mm256_mul_ps(r0, _mm256_set1_ps(w[0]));
    r1 = _mm256_mul_ps(r1, _mm256_set1_ps(w[1]));
    r2 = _mm256_mul_ps(r2, _mm256_set1_ps(w[2]));
    r3 = _mm256_mul_ps(r3, _mm256_set1_ps(w[3]));
    r4 = _mm256_mul_ps(r4, _mm256_set1_ps(w[4]));
    r5 = _mm256_mul_ps(r5, _mm256_set1_ps(w[5]));
    r6 = _mm256_mul_ps(r6, _mm256_set1_ps(w[6]));
    r7 = _mm256_mul_ps(r7, _mm256_set1_ps(w[7]));
  }
  _mm256_storeu_ps(dst + 0, r0);
  _mm256_storeu_ps(dst + 8, r1);
  _mm256_storeu_ps(dst + 16, r2);
  _mm256_storeu_ps(dst + 24, r3);
  _mm256_storeu_ps(dst + 32, r4);
  _mm256_storeu_ps(dst + 40, r5);
  _mm256_storeu_ps(dst + 48, r6);
  _mm256_storeu_ps(dst + 56, r7);
}

// src[j*8 + l] for j = 0..7 (8 interleaved rows)  ->  rows[l] + off .. +8, each value times
// w[j]; accumulate (+=) when `add`, else store.
inline void lanes_to_rows(const float* src, float* const* rows, int64_t off, const float* w,
                          bool add) {
  __m256 r0 = _mm256_loadu_ps(src + 0), r1 = _mm256_loadu_ps(src + 8);
  __m256 r2 = _mm256_loadu_ps(src + 16), r3 = _mm256_loadu_ps(src + 24);
  __m256 r4 = _mm256_loadu_ps(src + 32), r5 = _mm256_loadu_ps(src + 40);
  __m256 r6 = _mm256_loadu_ps(src + 48), r7 = _mm256_loadu_ps(src + 56);
  transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
  __m256 rs[8] = {r0, r1, r2, r3, r4, r5, r6, r7};
  const __m256 wv = w ? _mm256_loadu_ps(w) : _mm256_set1_ps(1.0f);
  for (int l = 0; l < 8; ++l) {
    float* d = rows[l] + off;
    const __m256 v = _mm256_mul_ps(rs[l], wv);
    _mm256_storeu_ps(d, add ? _mm256_add_ps(_mm256_loadu_ps(d), v) : v);
  }
}

}  // namespace fk::dsp
#endif

#include "model/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/vecmath.hpp"

namespace fk::model {

// ---- reference kernels ----------------------------------------------------------------------

void linear_ref(const float* x, int rows, int in, const float* W, const float* b, int out,
                float* y) {
  for (int r = 0; r < rows; ++r)
    for (int o = 0; o < out; ++o) {
      double s = b ? b[o] : 0.0;
      for (int i = 0; i < in; ++i) s += double(W[size_t(o) * in + i]) * x[size_t(r) * in + i];
      y[size_t(r) * out + o] = float(s);
    }
}

void conv1d_ref(const float* x, int T, int in, const float* W, const float* b, int out, int K,
                float* y) {
  const int p = K / 2;
  for (int t = 0; t < T; ++t)
    for (int o = 0; o < out; ++o) {
      double s = b ? b[o] : 0.0;
      for (int k = 0; k < K; ++k) {
        const int j = t + k - p;
        if (j < 0 || j >= T) continue;
        for (int i = 0; i < in; ++i)
          s += double(W[(size_t(o) * in + i) * K + k]) * x[size_t(j) * in + i];
      }
      y[size_t(t) * out + o] = float(s);
    }
}

void upsample2_conv1d_ref(const float* x, int T, int in, const float* W, const float* b, int out,
                          int K, float* y) {
  std::vector<float> u(size_t(2) * T * in);
  for (int j = 0; j < 2 * T; ++j)
    std::memcpy(&u[size_t(j) * in], x + size_t(j / 2) * in, sizeof(float) * in);
  conv1d_ref(u.data(), 2 * T, in, W, b, out, K, y);
}

void causal_attention_ref(const float* qkv, int ld_qkv, int W, int d, int heads, int r0,
                          float* out, int ld_out) {
  const int hd = d / heads;
  std::vector<double> p(static_cast<size_t>(W));
  for (int h = 0; h < heads; ++h)
    for (int r = r0; r < W; ++r) {
      double mx = -1e300, sum = 0;
      for (int j = 0; j <= r; ++j) {
        double s = 0;
        for (int i = 0; i < hd; ++i)
          s += double(qkv[size_t(r) * ld_qkv + h * hd + i]) * qkv[size_t(j) * ld_qkv + d + h * hd + i];
        p[size_t(j)] = s / std::sqrt(double(hd));
        mx = std::max(mx, p[size_t(j)]);
      }
      for (int j = 0; j <= r; ++j) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - mx));
      for (int i = 0; i < hd; ++i) {
        double o = 0;
        for (int j = 0; j <= r; ++j) o += p[size_t(j)] * qkv[size_t(j) * ld_qkv + 2 * d + h * hd + i];
        out[size_t(r) * ld_out + h * hd + i] = float(o / sum);
      }
    }
}

void layer_norm_ref(const float* x, int rows, int d, const float* g, const float* b, float eps,
                    float* y) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * d;
    double mean = 0, var = 0;
    for (int i = 0; i < d; ++i) mean += xr[i];
    mean /= d;
    for (int i = 0; i < d; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= d;
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int i = 0; i < d; ++i) y[size_t(r) * d + i] = float((xr[i] - mean) * inv * g[i] + b[i]);
  }
}

// ---- packing --------------------------------------------------------------------------------

namespace {

// B given as an element function (k, o) -> value.
template <class F>
Packed pack(int depth, int n, const float* b, F&& at) {
  Packed P;
  P.depth = depth;
  P.n = n;
  P.n_pad = (n + Packed::kNr - 1) / Packed::kNr * Packed::kNr;
  P.panels.assign(size_t(P.n_pad) * depth, 0.0f);
  P.bias.assign(P.n_pad, 0.0f);
  for (int o = 0; o < n; ++o) {
    const int panel = o / Packed::kNr, lane = o % Packed::kNr;
    float* dst = P.panels.data() + size_t(panel) * depth * Packed::kNr + lane;
    for (int k = 0; k < depth; ++k) dst[size_t(k) * Packed::kNr] = at(k, o);
    if (b) P.bias[o] = b[o];
  }
  return P;
}

}  // namespace

Packed Packed::linear(const float* W, const float* b, int n, int depth) {
  return pack(depth, n, b, [&](int k, int o) { return W[size_t(o) * depth + k]; });
}

Packed Packed::conv(const float* W, const float* b, int n, int in, int K) {
  return pack(K * in, n, b, [&](int k, int o) {
    const int tap = k / in, i = k % in;
    return W[(size_t(o) * in + i) * K + tap];
  });
}

Packed Packed::upsample2_conv_phase(const float* W, const float* b, int n, int in, int K, int r,
                                    int* dmin_out) {
  // Output row 2m + r reads u[2m + r + k - p] = x[m + floor((r + k - p) / 2)].
  const int p = K / 2;
  auto tap = [&](int k) {
    const int j = r + k - p;
    return j >= 0 ? j / 2 : -((-j + 1) / 2);  // floor division
  };
  const int dmin = tap(0), dmax = tap(K - 1), span = dmax - dmin + 1;
  *dmin_out = dmin;
  return pack(span * in, n, b, [&](int k, int o) {
    const int d = k / in + dmin, i = k % in;
    float s = 0.0f;
    for (int kk = 0; kk < K; ++kk)
      if (tap(kk) == d) s += W[(size_t(o) * in + i) * K + kk];
    return s;
  });
}

// ---- Winograd F(2,3) ----------------------------------------------------------------------------
//
// For outputs y0, y1 from inputs d0..d3 and taps g0..g2:
//   m0 = (d0 - d2) g0,  m1 = (d1 + d2)(g0 + g1 + g2)/2,  m2 = (d2 - d1)(g0 - g1 + g2)/2,
//   m3 = (d1 - d3) g2;  y0 = m0 + m1 + m2,  y1 = m1 - m2 - m3.
// The bias rides on m1, which both outputs take with a plus sign.

Winograd3 Winograd3::make(const float* taps, const float* bias, int n, int in) {
  const size_t N = size_t(n) * in;
  std::vector<float> G[4];
  for (auto& g : G) g.resize(N);
  for (size_t j = 0; j < N; ++j) {
    const float g0 = taps[j], g1 = taps[N + j], g2 = taps[2 * N + j];
    G[0][j] = g0;
    G[1][j] = 0.5f * (g0 + g1 + g2);
    G[2][j] = 0.5f * (g0 - g1 + g2);
    G[3][j] = g2;
  }
  Winograd3 w;
  for (int i = 0; i < 4; ++i) w.g[i] = Packed::linear(G[i].data(), i == 1 ? bias : nullptr, n, in);
  return w;
}

void winograd3_input(const float* x, int in, int T, float* U) {
  const int P = (T + 1) / 2;
  const size_t blk = size_t(P) * in;
  for (int p = 0; p < P; ++p) {
    const float* d0 = x + (ptrdiff_t(2 * p) - 1) * in;
    const float *d1 = d0 + in, *d2 = d1 + in, *d3 = d2 + in;
    float* u = U + size_t(p) * in;
    for (int i = 0; i < in; ++i) {
      u[i] = d0[i] - d2[i];
      u[blk + i] = d1[i] + d2[i];
      u[2 * blk + i] = d2[i] - d1[i];
      u[3 * blk + i] = d1[i] - d3[i];
    }
  }
}

void winograd3_conv(const float* U, int in, int T, const Winograd3& w, const float* extra,
                    float* M, float* out, int ldo) {
  const int P = (T + 1) / 2, np = w.n_pad();
  const size_t ublk = size_t(P) * in, mblk = size_t(P) * np;
  for (int i = 0; i < 4; ++i)
    gemm(U + i * ublk, in, P, w.g[i], i == 1 ? extra : nullptr, M + i * mblk, np);
  for (int p = 0; p < P; ++p) {
    const float* m0 = M + size_t(p) * np;
    const float *m1 = m0 + mblk, *m2 = m1 + mblk, *m3 = m2 + mblk;
    float* y0 = out + size_t(2 * p) * ldo;
    for (int o = 0; o < np; ++o) y0[o] = m0[o] + m1[o] + m2[o];
    if (2 * p + 1 < T) {
      float* y1 = y0 + ldo;
      for (int o = 0; o < np; ++o) y1[o] = m1[o] - m2[o] - m3[o];
    }
  }
}

// ---- matrix product -------------------------------------------------------------------------

void gemm_ref(const float* A, int lda, int M, const Packed& B, const float* extra, float* C,
              int ldc) {
  const int R = Packed::kNr;
  for (int r = 0; r < M; ++r)
    for (int o = 0; o < B.n_pad; ++o) {
      const float* col = B.panels.data() + size_t(o / R) * B.depth * R + o % R;
      double s = double(B.bias[o]) + (extra && o < B.n ? extra[o] : 0.0f);
      for (int k = 0; k < B.depth; ++k) s += double(A[size_t(r) * lda + k]) * col[size_t(k) * R];
      C[size_t(r) * ldc + o] = float(s);
    }
}

#if defined(FK_HAVE_VEC8)
namespace {
using vec::v8;

// MR rows x 16 columns of C, the whole depth in registers.
template <int MR>
inline void micro(const float* A, int lda, const float* Bp, int depth, v8 bias0, v8 bias1,
                  float* C, int ldc) {
  v8 c0[MR], c1[MR];
  for (int r = 0; r < MR; ++r) c0[r] = bias0, c1[r] = bias1;
  for (int k = 0; k < depth; ++k) {
    const v8 b0 = vec::load(Bp + size_t(k) * 16), b1 = vec::load(Bp + size_t(k) * 16 + 8);
    for (int r = 0; r < MR; ++r) {
      const v8 a = vec::splat(A[size_t(r) * lda + k]);
      c0[r] += a * b0;
      c1[r] += a * b1;
    }
  }
  for (int r = 0; r < MR; ++r) {
    vec::store(C + size_t(r) * ldc, c0[r]);
    vec::store(C + size_t(r) * ldc + 8, c1[r]);
  }
}

// One row times four panels (64 columns): a single row has no rows to share the loads of B
// across, so it takes several panels at once to keep eight independent accumulator chains.
inline void row4(const float* A, const Packed& B, int panel, const float* extra, float* C) {
  const int depth = B.depth;
  const float* P[4];
  v8 c[8];
  for (int q = 0; q < 4; ++q) {
    P[q] = B.panels.data() + size_t(panel + q) * depth * 16;
    for (int h = 0; h < 2; ++h) {
      float bias[8];
      for (int j = 0; j < 8; ++j) {
        const int o = (panel + q) * 16 + h * 8 + j;
        bias[j] = B.bias[o] + (extra && o < B.n ? extra[o] : 0.0f);
      }
      c[2 * q + h] = vec::load(bias);
    }
  }
  for (int k = 0; k < depth; ++k) {
    const v8 a = vec::splat(A[k]);
    for (int q = 0; q < 4; ++q) {
      c[2 * q] += a * vec::load(P[q] + size_t(k) * 16);
      c[2 * q + 1] += a * vec::load(P[q] + size_t(k) * 16 + 8);
    }
  }
  for (int q = 0; q < 8; ++q) vec::store(C + (panel * 16) + q * 8, c[q]);
}
}  // namespace

void gemm(const float* A, int lda, int M, const Packed& B, const float* extra, float* C,
          int ldc) {
  static_assert(Packed::kNr == 16, "the micro-kernel is 16 columns wide");
  constexpr int MR = 6;
  int first_panel = 0;
  if (M == 1)
    for (; first_panel + 4 <= B.n_pad / 16; first_panel += 4) row4(A, B, first_panel, extra, C);
  for (int panel = first_panel; panel < B.n_pad / 16; ++panel) {
    const float* Bp = B.panels.data() + size_t(panel) * B.depth * 16;
    float bias[16];
    for (int j = 0; j < 16; ++j) {
      const int o = panel * 16 + j;
      bias[j] = B.bias[o] + (extra && o < B.n ? extra[o] : 0.0f);
    }
    const v8 bias0 = vec::load(bias), bias1 = vec::load(bias + 8);
    float* Cp = C + panel * 16;
    // Row tiles of 6 where possible; a remainder is split into two balanced tiles rather than
    // leaving a thin one (32 rows: 6 6 6 6 4 4, not 6 6 6 6 6 2).
    int r = 0;
    while (r < M) {
      const int rem = M - r;
      const int mr = (rem % MR == 0 || rem >= 2 * MR) ? MR : (rem > MR ? (rem + 1) / 2 : rem);
      const float* Ar = A + size_t(r) * lda;
      float* Cr = Cp + size_t(r) * ldc;
      switch (mr) {
        case 6: micro<6>(Ar, lda, Bp, B.depth, bias0, bias1, Cr, ldc); break;
        case 5: micro<5>(Ar, lda, Bp, B.depth, bias0, bias1, Cr, ldc); break;
        case 4: micro<4>(Ar, lda, Bp, B.depth, bias0, bias1, Cr, ldc); break;
        case 3: micro<3>(Ar, lda, Bp, B.depth, bias0, bias1, Cr, ldc); break;
        case 2: micro<2>(Ar, lda, Bp, B.depth, bias0, bias1, Cr, ldc); break;
        default: micro<1>(Ar, lda, Bp, B.depth, bias0, bias1, Cr, ldc); break;
      }
      r += mr;
    }
  }
}

void gelu(float* x, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const v8 v = vec::load(x + i);
    vec::store(x + i, vec::splat(0.5f) * v * (vec::splat(1.0f) + vec::erf(v * vec::splat(0.70710678118654752f))));
  }
  for (; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}
#else
void gemm(const float* A, int lda, int M, const Packed& B, const float* extra, float* C,
          int ldc) {
  gemm_ref(A, lda, M, B, extra, C, ldc);
}

void gelu(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}
#endif

namespace {
// Sum of n floats with eight independent partial sums (a single running sum is one long
// dependency chain: 96 adds at 4 cycles each per row).
inline float sum8(const float* x, int n, float shift, bool squares) {
  int i = 0;
  float s = 0.0f;
#if defined(FK_HAVE_VEC8)
  vec::v8 acc = vec::splat(0.0f);
  const vec::v8 sh = vec::splat(shift);
  for (; i + 8 <= n; i += 8) {
    const vec::v8 v = vec::load(x + i) - sh;
    acc += squares ? v * v : v;
  }
  s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
#endif
  for (; i < n; ++i) {
    const float v = x[i] - shift;
    s += squares ? v * v : v;
  }
  return s;
}
}  // namespace

namespace {
inline float dot_n(const float* a, const float* b, int n) {
  int i = 0;
  float s = 0.0f;
#if defined(FK_HAVE_VEC8)
  vec::v8 acc = vec::splat(0.0f);
  for (; i + 8 <= n; i += 8) acc += vec::load(a + i) * vec::load(b + i);
  s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
#endif
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// o = inv * sum_j p[j] v_j over n rows of values (stride ld), accumulated in registers:
// adding into o in memory row by row stalls on store-to-load forwarding.
inline void weighted_sum(const float* p, const float* v0, int ld, int n, int hd, float inv,
                         float* o) {
  int i = 0;
#if defined(FK_HAVE_VEC8)
  for (; i + 32 <= hd; i += 32) {
    vec::v8 a0 = vec::splat(0.f), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < n; ++j) {
      const vec::v8 w = vec::splat(p[j]);
      const float* v = v0 + size_t(j) * ld + i;
      a0 += w * vec::load(v);
      a1 += w * vec::load(v + 8);
      a2 += w * vec::load(v + 16);
      a3 += w * vec::load(v + 24);
    }
    const vec::v8 s = vec::splat(inv);
    vec::store(o + i, a0 * s);
    vec::store(o + i + 8, a1 * s);
    vec::store(o + i + 16, a2 * s);
    vec::store(o + i + 24, a3 * s);
  }
  for (; i + 8 <= hd; i += 8) {
    vec::v8 a0 = vec::splat(0.f);
    for (int j = 0; j < n; ++j) a0 += vec::splat(p[j]) * vec::load(v0 + size_t(j) * ld + i);
    vec::store(o + i, a0 * vec::splat(inv));
  }
#endif
  for (; i < hd; ++i) {
    float acc = 0.0f;
    for (int j = 0; j < n; ++j) acc += p[j] * v0[size_t(j) * ld + i];
    o[i] = acc * inv;
  }
}
}  // namespace

void causal_attention(const float* qkv, int ld_qkv, int W, int d, int heads, int r0, float* out,
                      int ld_out, float* scores) {
  const int hd = d / heads;
  const float scale = float(1.0 / std::sqrt(double(hd)));
  for (int h = 0; h < heads; ++h) {
    const float* q0 = qkv + size_t(h) * hd;
    const float* k0 = qkv + size_t(d + h * hd);
    const float* v0 = qkv + size_t(2 * d + h * hd);
    for (int r = r0; r < W; ++r) {
      const float* q = q0 + size_t(r) * ld_qkv;
      float mx = -INFINITY;
      for (int j = 0; j <= r; ++j) {
        const float s = dot_n(q, k0 + size_t(j) * ld_qkv, hd) * scale;
        scores[j] = s;
        mx = std::max(mx, s);
      }
      int j = 0;
#if defined(FK_HAVE_VEC8)
      for (; j + 8 <= r + 1; j += 8)
        vec::store(scores + j, vec::exp(vec::load(scores + j) - vec::splat(mx)));
#endif
      for (; j <= r; ++j) scores[j] = std::exp(scores[j] - mx);
      float sum = 0.0f;
      for (j = 0; j <= r; ++j) sum += scores[j];
      weighted_sum(scores, v0, ld_qkv, r + 1, hd, 1.0f / sum,
                   out + size_t(r) * ld_out + size_t(h) * hd);
    }
  }
}

void ring_attention(const float* q, const float* K, const float* V, int ld, int W, int newest,
                    int n, int d, int heads, const float* bias, float* out, float* scores) {
  const int hd = d / heads;
  const float scale = float(1.0 / std::sqrt(double(hd)));
  for (int h = 0; h < heads; ++h) {
    const float* qh = q + size_t(h) * hd;
    const float* bh = bias + size_t(h) * W;
    // Slot order (not distance order): the weighted sum then walks the values contiguously.
    float mx = -INFINITY;
    for (int s = 0; s < W; ++s) {
      const int t = (newest - s + W) % W;
      if (t >= n) {
        scores[s] = 0.0f;  // set to zero after the exponentials
        continue;
      }
      const float sc = dot_n(qh, K + size_t(s) * ld + size_t(h) * hd, hd) * scale + bh[t];
      scores[s] = sc;
      mx = std::max(mx, sc);
    }
    int s = 0;
#if defined(FK_HAVE_VEC8)
    for (; s + 8 <= W; s += 8)
      vec::store(scores + s, vec::exp(vec::load(scores + s) - vec::splat(mx)));
#endif
    for (; s < W; ++s) scores[s] = std::exp(scores[s] - mx);
    float sum = 0.0f;
    for (s = 0; s < W; ++s) {
      if ((newest - s + W) % W >= n) scores[s] = 0.0f;  // slots not (yet) in the band
      sum += scores[s];
    }
    weighted_sum(scores, V + size_t(h) * hd, ld, W, hd, 1.0f / sum, out + size_t(h) * hd);
  }
}

void layer_norm(const float* x, int rows, int d, int ld, const float* g, const float* b,
                float eps, float* y, int ldy) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * ld;
    float* yr = y + size_t(r) * ldy;
    const float mean = sum8(xr, d, 0.0f, false) / float(d);
    const float var = sum8(xr, d, mean, true) / float(d);
    const float inv = 1.0f / std::sqrt(var + eps);
    for (int i = 0; i < d; ++i) yr[i] = (xr[i] - mean) * inv * g[i] + b[i];
  }
}

}  // namespace fk::model

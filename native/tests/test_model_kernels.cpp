// The fast model kernels against the plain reference kernels (kernels.hpp), on ragged shapes
// that hit every tail of the micro-kernel, and the vector math against libm.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "check.h"
#include "model/kernels.hpp"
#include "model/vecmath.hpp"

using namespace fk::model;

namespace {

std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// max |a - b| / (1 + |b|)
double rel_err(const float* a, const float* b, size_t n, int lda = 0, int ldb = 0, int cols = 0) {
  double e = 0;
  if (!cols) {
    for (size_t i = 0; i < n; ++i) e = std::max(e, std::fabs(double(a[i]) - b[i]) / (1 + std::fabs(b[i])));
    return e;
  }
  for (size_t r = 0; r < n; ++r)
    for (int c = 0; c < cols; ++c)
      e = std::max(e, std::fabs(double(a[r * lda + c]) - b[r * ldb + c]) / (1 + std::fabs(b[r * ldb + c])));
  return e;
}

void test_linear(std::mt19937& rng) {
  for (int rows : {1, 2, 5, 6, 7, 13, 32})
    for (int in : {1, 3, 16, 57, 96})
      for (int out : {1, 15, 16, 17, 81, 96}) {
        auto x = randn(size_t(rows) * in, rng), W = randn(size_t(out) * in, rng, 0.3f),
             b = randn(out, rng);
        std::vector<float> ref(size_t(rows) * out);
        linear_ref(x.data(), rows, in, W.data(), b.data(), out, ref.data());
        Packed P = Packed::linear(W.data(), b.data(), out, in);
        std::vector<float> fast(size_t(rows) * P.n_pad), plain(size_t(rows) * P.n_pad);
        gemm(x.data(), in, rows, P, nullptr, fast.data(), P.n_pad);
        gemm_ref(x.data(), in, rows, P, nullptr, plain.data(), P.n_pad);
        CHECK(rel_err(fast.data(), ref.data(), rows, P.n_pad, out, out) < 1e-5);
        CHECK(rel_err(plain.data(), ref.data(), rows, P.n_pad, out, out) < 1e-6);
        // padding columns hold exactly the (zero) bias
        for (int r = 0; r < rows; ++r)
          for (int c = out; c < P.n_pad; ++c) CHECK(fast[size_t(r) * P.n_pad + c] == 0.0f);
      }
  // extra bias
  auto x = randn(5 * 8, rng), W = randn(20 * 8, rng), e = randn(20, rng);
  Packed P = Packed::linear(W.data(), nullptr, 20, 8);
  std::vector<float> ref(5 * 20), fast(5 * P.n_pad);
  linear_ref(x.data(), 5, 8, W.data(), e.data(), 20, ref.data());
  gemm(x.data(), 8, 5, P, e.data(), fast.data(), P.n_pad);
  CHECK(rel_err(fast.data(), ref.data(), 5, P.n_pad, 20, 20) < 1e-5);
}

// A time-major input with pad zero rows on both sides, as the decoder keeps it.
std::vector<float> padded(const std::vector<float>& x, int T, int C, int pad) {
  std::vector<float> p(size_t(T + 2 * pad) * C, 0.0f);
  std::copy(x.begin(), x.end(), p.begin() + size_t(pad) * C);
  return p;
}

void test_conv(std::mt19937& rng) {
  for (int K : {1, 3, 5, 7})
    for (int T : {1, 4, 16, 23})
      for (int C : {3, 16, 24})
        for (int out : {5, 16, 33}) {
          auto x = randn(size_t(T) * C, rng), W = randn(size_t(out) * C * K, rng, 0.3f),
               b = randn(out, rng);
          std::vector<float> ref(size_t(T) * out);
          conv1d_ref(x.data(), T, C, W.data(), b.data(), out, K, ref.data());
          const int pad = K / 2 + 1;
          auto xp = padded(x, T, C, pad);
          Packed P = Packed::conv(W.data(), b.data(), out, C, K);
          std::vector<float> fast(size_t(T) * P.n_pad);
          gemm(xp.data() + size_t(pad - K / 2) * C, C, T, P, nullptr, fast.data(), P.n_pad);
          CHECK(rel_err(fast.data(), ref.data(), T, P.n_pad, out, out) < 1e-5);

          // nearest doubling + conv through the two merged-tap phases
          std::vector<float> ref2(size_t(2 * T) * out), fast2(size_t(2 * T) * P.n_pad);
          upsample2_conv1d_ref(x.data(), T, C, W.data(), b.data(), out, K, ref2.data());
          for (int r = 0; r < 2; ++r) {
            int dmin = 0;
            Packed Q = Packed::upsample2_conv_phase(W.data(), b.data(), out, C, K, r, &dmin);
            CHECK(Q.depth <= K * C);
            gemm(xp.data() + size_t(pad + dmin) * C, C, T, Q, nullptr,
                 fast2.data() + size_t(r) * Q.n_pad, 2 * Q.n_pad);
          }
          CHECK(rel_err(fast2.data(), ref2.data(), 2 * T, P.n_pad, out, out) < 1e-5);
        }
}

// Winograd F(2,3) against the plain kernel-3 convolution, odd and even lengths.
void test_winograd(std::mt19937& rng) {
  for (int T : {1, 2, 7, 16, 33})
    for (int C : {3, 16, 64})
      for (int out : {5, 16, 81}) {
        auto x = randn(size_t(T) * C, rng), W = randn(size_t(out) * C * 3, rng, 0.3f),
             b = randn(out, rng);
        std::vector<float> ref(size_t(T) * out);
        conv1d_ref(x.data(), T, C, W.data(), b.data(), out, 3, ref.data());
        std::vector<float> taps(size_t(3) * out * C);
        for (int k = 0; k < 3; ++k)
          for (int o = 0; o < out; ++o)
            for (int i = 0; i < C; ++i)
              taps[(size_t(k) * out + o) * C + i] = W[(size_t(o) * C + i) * 3 + k];
        const Winograd3 w = Winograd3::make(taps.data(), b.data(), out, C);
        const int pad = 3;
        auto xp = padded(x, T, C, pad);
        std::vector<float> U(winograd3_u_floats(T, C)), M(winograd3_m_floats(T, w.n_pad())),
            fast(size_t(T) * w.n_pad());
        winograd3_input(xp.data() + size_t(pad) * C, C, T, U.data());
        winograd3_conv(U.data(), C, T, w, nullptr, M.data(), fast.data(), w.n_pad());
        CHECK(rel_err(fast.data(), ref.data(), T, w.n_pad(), out, out) < 2e-5);
      }
}

void test_attention(std::mt19937& rng) {
  for (int W : {1, 5, 32})
    for (int heads : {1, 4})
      for (int hd : {3, 8, 24, 40})
        for (int r0 : {0, W - 1}) {
          const int d = heads * hd, ld = 3 * d + 5, ldo = d + 3;
          auto qkv = randn(size_t(W) * ld, rng, 1.5f);
          std::vector<float> ref(size_t(W) * ldo, 7.0f), fast(size_t(W) * ldo, 7.0f),
              scores(size_t(W) + 8);
          causal_attention_ref(qkv.data(), ld, W, d, heads, r0, ref.data(), ldo);
          causal_attention(qkv.data(), ld, W, d, heads, r0, fast.data(), ldo, scores.data());
          CHECK(rel_err(fast.data(), ref.data(), fast.size()) < 1e-5);
          if (r0 > 0) CHECK(fast[0] == 7.0f);  // rows before r0 untouched
        }
}

void test_layer_norm_gelu(std::mt19937& rng) {
  for (int d : {1, 8, 96, 100}) {
    auto x = randn(size_t(3) * d, rng, 3.0f), g = randn(d, rng), b = randn(d, rng);
    std::vector<float> ref(size_t(3) * d), fast(size_t(3) * d);
    layer_norm_ref(x.data(), 3, d, g.data(), b.data(), 1e-5f, ref.data());
    layer_norm(x.data(), 3, d, d, g.data(), b.data(), 1e-5f, fast.data(), d);
    CHECK(rel_err(fast.data(), ref.data(), fast.size()) < 1e-5);
  }
  std::vector<float> x(1001);
  for (size_t i = 0; i < x.size(); ++i) x[i] = -10.0f + 20.0f * float(i) / 1000.0f;
  std::vector<float> y = x;
  gelu(y.data(), int(y.size()));
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i)
    e = std::max(e, std::fabs(y[i] - 0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0)))));
  CHECK(e < 2e-6);
}

void test_vector_math() {
#if defined(FK_HAVE_VEC8)
  double exp_rel = 0, sig_abs = 0, erf_abs = 0;
  for (float v = -87.0f; v < 88.0f; v += 0.0137f) {
    float in[8], out[8];
    for (int j = 0; j < 8; ++j) in[j] = v + 0.001f * j;
    vec::store(out, vec::exp(vec::load(in)));
    for (int j = 0; j < 8; ++j) exp_rel = std::max(exp_rel, std::fabs(out[j] / std::exp(double(in[j])) - 1));
    vec::store(out, vec::sigmoid(vec::load(in)));
    for (int j = 0; j < 8; ++j) sig_abs = std::max(sig_abs, std::fabs(out[j] - 1 / (1 + std::exp(-double(in[j])))));
    vec::store(out, vec::erf(vec::load(in)));
    for (int j = 0; j < 8; ++j) erf_abs = std::max(erf_abs, std::fabs(out[j] - std::erf(double(in[j]))));
  }
  std::printf("vector math: exp max rel err %.3g, sigmoid max abs err %.3g, erf max abs err %.3g\n",
              exp_rel, sig_abs, erf_abs);
  CHECK(exp_rel < 3e-7);
  CHECK(sig_abs < 3e-7);
  CHECK(erf_abs < 3e-7);
#else
  std::printf("vector math: scalar build, nothing to compare\n");
#endif
}

}  // namespace

int main() {
  std::mt19937 rng(1234);
  test_linear(rng);
  test_conv(rng);
  test_winograd(rng);
  test_attention(rng);
  test_layer_norm_gelu(rng);
  test_vector_math();
  return fk_check_summary("model_kernels");
}

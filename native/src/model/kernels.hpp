// The layers FoleyKit's model families use, each twice: a plain reference kernel over torch's
// weight layouts (the definition), and a fast kernel over weights repacked at load time (what
// inference runs). Tests hold the fast kernels to the reference ones.
//
// Activations are time-major: row t holds the channels of frame t ([rows][channels]), so a
// convolution's receptive field (rows t-p .. t+p) is one contiguous run of memory and every
// layer is the same small matrix product. Buffers that feed a convolution carry `pad` zero rows
// above and below.
#pragma once
#include <cstddef>
#include <vector>

namespace fk::model {

// ---- reference kernels (torch layouts) ------------------------------------------------------

// y[r][o] = b[o] + sum_i W[o][i] x[r][i];  W: [out][in] (nn.Linear), b may be null.
void linear_ref(const float* x, int rows, int in, const float* W, const float* b, int out,
                float* y);
// Same-padded 1-D convolution, stride 1: y[t][o] = b[o] + sum_{k,i} W[o][i][k] x[t+k-p][i]
// with zeros outside [0, T). W: [out][in][K] (nn.Conv1d), p = K / 2.
void conv1d_ref(const float* x, int T, int in, const float* W, const float* b, int out, int K,
                float* y);
// Nearest-neighbour doubling (u[j] = x[j / 2], 2T rows) followed by conv1d_ref.
void upsample2_conv1d_ref(const float* x, int T, int in, const float* W, const float* b, int out,
                          int K, float* y);
// Causal multi-head self-attention for query rows r0..W-1. qkv: W rows (stride ld_qkv) of
// queries | keys | values, d columns each, head h in columns h*d/heads ..; row r attends to
// rows 0..r: softmax(q k^T / sqrt(d/heads)) v. Writes d columns of rows r0..W-1 of out.
void causal_attention_ref(const float* qkv, int ld_qkv, int W, int d, int heads, int r0,
                          float* out, int ld_out);
// Row-wise LayerNorm: y = (x - mean) / sqrt(var + eps) * g + b (biased variance).
void layer_norm_ref(const float* x, int rows, int d, const float* g, const float* b, float eps,
                    float* y);

// ---- fast kernels ---------------------------------------------------------------------------

// Weights packed for the matrix-product kernel: B is [depth][n] split into panels of kNr
// columns ([n_pad / kNr][depth][kNr], zero-filled past n), plus a bias of n_pad floats.
struct Packed {
  static constexpr int kNr = 16;
  int depth = 0, n = 0, n_pad = 0;
  std::vector<float> panels;
  std::vector<float> bias;

  // From nn.Linear's W [n][depth] (and b [n], may be null).
  static Packed linear(const float* W, const float* b, int n, int depth);
  // From nn.Conv1d's W [n][in][K]: depth index = k * in + i, the order of a time-major
  // receptive field.
  static Packed conv(const float* W, const float* b, int n, int in, int K);
  // The two phases of nearest-doubling + conv (K odd, p = K / 2) as convolutions over the
  // undoubled input: output row 2m + r = sum_d Wr[d] x[m + d] for d in [dmin, dmax]. Returns
  // the packed weights of phase r (depth = (dmax - dmin + 1) * in) and sets *dmin.
  static Packed upsample2_conv_phase(const float* W, const float* b, int n, int in, int K, int r,
                                     int* dmin);
};

// A three-tap convolution (y[t] = b + sum_k W_k x[t + k - 1]) by Winograd's F(2,3): two
// outputs from four products instead of six, so two thirds of the arithmetic. The four
// transformed weight matrices are packed at load time.
struct Winograd3 {
  Packed g[4];
  // taps: [3][n][in], tap k multiplying input row t + k - 1; bias: n floats (may be null).
  static Winograd3 make(const float* taps, const float* bias, int n, int in);
  int n_pad() const { return g[0].n_pad; }
};
// Floats of scratch winograd3 needs for T output rows of `in` channels (U) and of the
// product (M) for `n_pad` output columns.
inline size_t winograd3_u_floats(int T, int in) { return size_t(4) * ((T + 1) / 2) * in; }
inline size_t winograd3_m_floats(int T, int n_pad) { return size_t(4) * ((T + 1) / 2) * n_pad; }
// Input transform: x points at input row 0 of a time-major buffer with row stride `in` and at
// least one zero row before row 0 and two after row T - 1.
void winograd3_input(const float* x, int in, int T, float* U);
// y rows t < T at out + t * ldo (n_pad columns each) from a transformed input U; extra (n
// floats, may be null) is added to every output row like the bias.
void winograd3_conv(const float* U, int in, int T, const Winograd3& w, const float* extra,
                    float* M, float* out, int ldo);

// C[r][o] = bias[o] + extra[o] + sum_k A[r * lda + k] B[k][o] for r < M, o < n_pad (C rows
// must hold n_pad floats; ldc >= n_pad). extra may be null. A rows may overlap (lda < depth):
// that is how a convolution reads its receptive field without copying.
void gemm(const float* A, int lda, int M, const Packed& B, const float* extra, float* C,
          int ldc);
// The same product computed plainly from the packed weights (the reference for gemm).
void gemm_ref(const float* A, int lda, int M, const Packed& B, const float* extra, float* C,
              int ldc);

void layer_norm(const float* x, int rows, int d, int ld, const float* g, const float* b,
                float eps, float* y, int ldy);
// causal_attention_ref, vectorised; scores: W + 8 floats of scratch.
void causal_attention(const float* qkv, int ld_qkv, int W, int d, int heads, int r0, float* out,
                      int ld_out, float* scores);
// One query row of banded attention over a ring of W cached rows (the relative positional
// form's streaming step). K and V hold W rows of d columns (stride ld); the newest row is at
// slot `newest`, the row at distance t (0 <= t < n <= W) at slot (newest - t) mod W; slots
// further than n - 1 are ignored. bias: [heads][W], added to the scaled score of distance t.
// out[h*d/heads ..] = softmax_t(q_h . k_h(t) / sqrt(d/heads) + bias[h][t]) v_h(t).
// scores: W + 8 floats of scratch.
void ring_attention(const float* q, const float* K, const float* V, int ld, int W, int newest,
                    int n, int d, int heads, const float* bias, float* out, float* scores);
// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)), in place.
void gelu(float* x, int n);

}  // namespace fk::model

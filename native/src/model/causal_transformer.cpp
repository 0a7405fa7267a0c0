// The ambience step model (sdk/foleykit/models/transformer.py, CausalTransformer.step):
//   state <- state[1:] + frame;  x = (state - center) / spread
//   h = inp(x) + pos + ctrl(c);  pre-norm blocks (causal attention, GELU MLP);  head(ln(h[-1]))
//   next = stabilise(mu + exp(clamp(log_std)) * noise, in log-mel units)
//
// Only the newest position's output is used, so the last block computes keys and values for
// every position but attention, projection and MLP for the newest one only. While streaming,
// inp(x) of the positions that merely shifted is reused (the same numbers the full product
// would give: each row of a matrix product is computed the same way alone or in a block).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/kernels.hpp"
#include "model/model_impl.hpp"
#include "model/vecmath.hpp"

namespace fk::model {
namespace {

struct Block {
  const float *ln1_g, *ln1_b, *ln2_g, *ln2_b;
  Packed qkv, proj, mlp0, mlp2;
  Packed kv;  // the last block: keys and values only (its queries are needed for one row)
};

class TransformerModel final : public Model {
 public:
  int c_dim = 0, n_mels = 0, window = 0, d = 0, heads = 0, layers = 0, ff = 0;
  float eps = 1e-5f, ls_min = -5.f, ls_max = 1.f;
  float lo = 0, hi = 0, center = 0, spread = 1, level_lo = 0, level_hi = 0;
  Packed inp, ctrl, head;
  std::vector<float> pos;  // [window][round16(d)]
  std::vector<float> norms;  // LayerNorm weights, copied (the file is not kept)
  const float *ln_g = nullptr, *ln_b = nullptr;
  std::vector<Block> blocks;

  std::unique_ptr<Session> create_session() const override;

  void build(const ModelFile& f) {
    init_common(f, Family::Transformer);
    const Json& a = f.architecture();
    c_dim = int(require_int(a, "c_dim", "architecture.c_dim", 0, 4096));
    n_mels = int(require_int(a, "n_mels", "architecture.n_mels", 1, 1024));
    window = int(require_int(a, "window", "architecture.window", 1, 1024));
    d = int(require_int(a, "d_model", "architecture.d_model", 1, 4096));
    heads = int(require_int(a, "heads", "architecture.heads", 1, 256));
    layers = int(require_int(a, "layers", "architecture.layers", 1, 64));
    ff = int(require_int(a, "ff", "architecture.ff", 1, 16384));
    eps = float(require_number(a, "ln_eps", "architecture.ln_eps"));
    ls_min = float(require_number(a, "log_std_min", "architecture.log_std_min"));
    ls_max = float(require_number(a, "log_std_max", "architecture.log_std_max"));
    if (!(eps > 0 && std::isfinite(eps))) invalid("architecture.ln_eps must be positive");
    if (!(std::isfinite(ls_min) && std::isfinite(ls_max) && ls_min < ls_max && ls_max < 30))
      invalid("architecture.log_std_min/max must be finite, ordered and below 30");
    if (d % heads) invalid("architecture.d_model must be a multiple of architecture.heads");
    if (int64_t(window) * std::max(ff, 3 * d) > (int64_t(1) << 24))
      invalid("architecture too large: window * width exceeds 2^24");
    if (n_mels != info_.n_mels) invalid("architecture.n_mels differs from meta.n_mels");
    if (c_dim != info_.control_dim)
      invalid("architecture.c_dim (" + std::to_string(c_dim) + ") differs from the control "
              "schema's vector size (" + std::to_string(info_.control_dim) + ")");
    if (require_int(f.meta(), "window_frames", "meta.window_frames", 1, 1024) != window)
      invalid("meta.window_frames differs from architecture.window");
    info_.mode = Mode::Step;
    info_.window = window;

    std::set<std::string> used;
    const int64_t D = d, N = n_mels;
    auto t = [&](const std::string& name, std::initializer_list<int64_t> shape) {
      return expect_tensor(f, name, shape, &used);
    };
    inp = Packed::linear(t("inp.weight", {D, N}), t("inp.bias", {D}), d, n_mels);
    ctrl = Packed::linear(t("ctrl.weight", {D, c_dim}), t("ctrl.bias", {D}), d, c_dim);
    const float* p = t("pos", {window, D});
    const int dp = round16(d);
    pos.assign(size_t(window) * dp, 0.0f);
    for (int r = 0; r < window; ++r) std::memcpy(&pos[size_t(r) * dp], p + size_t(r) * d, 4 * d);
    norms.assign(size_t(4 * layers + 2) * d, 0.0f);
    auto keep = [&](const float* src, int slot) {
      std::memcpy(&norms[size_t(slot) * d], src, sizeof(float) * d);
      return &norms[size_t(slot) * d];
    };
    blocks.resize(size_t(layers));
    for (int l = 0; l < layers; ++l) {
      const std::string b = "blocks." + std::to_string(l) + ".";
      Block& k = blocks[size_t(l)];
      k.ln1_g = keep(t(b + "ln1.weight", {D}), 4 * l);
      k.ln1_b = keep(t(b + "ln1.bias", {D}), 4 * l + 1);
      k.ln2_g = keep(t(b + "ln2.weight", {D}), 4 * l + 2);
      k.ln2_b = keep(t(b + "ln2.bias", {D}), 4 * l + 3);
      const float* qkv_w = t(b + "qkv.weight", {3 * D, D});
      const float* qkv_b = t(b + "qkv.bias", {3 * D});
      k.qkv = Packed::linear(qkv_w, qkv_b, 3 * d, d);
      if (l + 1 == layers) k.kv = Packed::linear(qkv_w + size_t(d) * d, qkv_b + d, 2 * d, d);
      k.proj = Packed::linear(t(b + "proj.weight", {D, D}), t(b + "proj.bias", {D}), d, d);
      k.mlp0 = Packed::linear(t(b + "mlp.0.weight", {ff, D}), t(b + "mlp.0.bias", {ff}), ff, d);
      k.mlp2 = Packed::linear(t(b + "mlp.2.weight", {D, ff}), t(b + "mlp.2.bias", {D}), d, ff);
    }
    ln_g = keep(t("ln.weight", {D}), 4 * layers);
    ln_b = keep(t("ln.bias", {D}), 4 * layers + 1);
    head = Packed::linear(t("head.weight", {2 * N, D}), t("head.bias", {2 * N}), 2 * n_mels, d);
    lo = *t("stats.lo", {});
    hi = *t("stats.hi", {});
    center = *t("stats.center", {});
    spread = *t("stats.spread", {});
    level_lo = *t("stats.level_lo", {});
    level_hi = *t("stats.level_hi", {});
    if (!(hi > lo)) invalid("stats.hi must exceed stats.lo");
    if (!(spread > 0)) invalid("stats.spread must be positive");
    if (!(level_hi >= level_lo)) invalid("stats.level_hi must not be below stats.level_lo");
    refuse_unused(f, used);
  }
};

class TransformerSession final : public Session {
 public:
  explicit TransformerSession(const TransformerModel& m) : m_(m) {
    const size_t W = size_t(m.window);
    dp_ = round16(m.d);
    qp_ = round16(3 * m.d);
    fp_ = round16(m.ff);
    state_.assign(W * m.n_mels, 0.0f);
    xn_.assign(W * m.n_mels, 0.0f);
    inp_.assign(W * dp_, 0.0f);
    h_.assign(W * dp_, 0.0f);
    a_.assign(W * dp_, 0.0f);
    att_.assign(W * dp_, 0.0f);
    tmp_.assign(W * dp_, 0.0f);
    qkv_.assign(W * qp_, 0.0f);
    mlp_.assign(W * fp_, 0.0f);
    ctrl_.assign(size_t(dp_), 0.0f);
    head_.assign(size_t(m.head.n_pad), 0.0f);
    scores_.assign(W + 8, 0.0f);
    noise_.assign(size_t(m.n_mels) + 1, 0.0f);
    frame_.assign(size_t(m.n_mels), 0.0f);
    cvec_.assign(size_t(m.c_dim) + 1, 0.0f);
  }

  Status run_step(const float* frame, const float* cvec, const float* noise, const float* state,
                  float* next_frame, float* next_state) override {
    if (!frame || (!cvec && m_.c_dim) || !noise || !state || !next_frame || !next_state) {
      fail("run_step: null buffer");
      return Status::InvalidArgument;
    }
    const size_t W = size_t(m_.window), N = size_t(m_.n_mels);
    std::memmove(state_.data(), state + N, sizeof(float) * (W - 1) * N);
    std::memcpy(state_.data() + (W - 1) * N, frame, sizeof(float) * N);
    step(cvec, noise, next_frame, /*reuse_inp=*/false);
    std::memcpy(next_state, state_.data(), sizeof(float) * W * N);
    inp_valid_ = false;
    return Status::Ok;
  }

  Status stream_reset(const float* values, int n_values, uint64_t seed) override {
    if (Status st = encode(values, n_values); st != Status::Ok) return st;
    std::fill(state_.begin(), state_.end(), m_.lo);
    std::fill(frame_.begin(), frame_.end(), m_.lo);
    seed_ = seed;
    k_ = 0;
    inp_valid_ = false;
    started_ = true;
    return Status::Ok;
  }

  Status stream_set_controls(const float* values, int n_values) override {
    if (!started_) {
      fail("stream_set_controls before stream_reset");
      return Status::InvalidArgument;
    }
    return encode(values, n_values);
  }

  Status stream_next(float* log_mel, int count) override {
    if (!started_) {
      fail("stream_next before stream_reset");
      return Status::InvalidArgument;
    }
    if (!log_mel || count < 0) {
      fail("stream_next: null output or negative count");
      return Status::InvalidArgument;
    }
    const size_t W = size_t(m_.window), N = size_t(m_.n_mels);
    for (int i = 0; i < count; ++i) {
      seed_noise(seed_, k_, noise_.data(), m_.n_mels);
      std::memmove(state_.data(), state_.data() + N, sizeof(float) * (W - 1) * N);
      std::memcpy(state_.data() + (W - 1) * N, frame_.data(), sizeof(float) * N);
      step(cvec_.data(), noise_.data(), frame_.data(), inp_valid_);
      inp_valid_ = true;
      std::memcpy(log_mel + size_t(i) * N, frame_.data(), sizeof(float) * N);
      ++k_;
    }
    return Status::Ok;
  }

 private:
  Status encode(const float* values, int n_values) {
    return m_.encode_controls(values, n_values, cvec_.data(), error_, sizeof error_);
  }

  // One step over state_ (already holding the newest frame); writes the next frame.
  void step(const float* cvec, const float* noise, float* out, bool reuse_inp) {
    const TransformerModel& m = m_;
    const int W = m.window, N = m.n_mels, D = m.d;
    const int first = reuse_inp ? W - 1 : 0;
    if (reuse_inp) std::memmove(inp_.data(), inp_.data() + dp_, sizeof(float) * (W - 1) * dp_);
    for (int r = first; r < W; ++r)
      for (int i = 0; i < N; ++i) {
        const size_t j = size_t(r) * N + i;
        xn_[j] = (state_[j] - m.center) / m.spread;
      }
    gemm(xn_.data() + size_t(first) * N, N, W - first, m.inp, nullptr,
         inp_.data() + size_t(first) * dp_, dp_);
    gemm(cvec, 0, 1, m.ctrl, nullptr, ctrl_.data(), dp_);
    for (int r = 0; r < W; ++r)
      for (int i = 0; i < D; ++i) {
        const size_t j = size_t(r) * dp_ + i;
        h_[j] = (inp_[j] + m.pos[j]) + ctrl_[size_t(i)];
      }
    for (int l = 0; l < m.layers; ++l) {
      const Block& b = m.blocks[size_t(l)];
      const int r0 = l + 1 == m.layers ? W - 1 : 0;  // rows whose output is still needed
      const int R = W - r0;
      layer_norm(h_.data(), W, D, dp_, b.ln1_g, b.ln1_b, m.eps, a_.data(), dp_);
      if (r0 == 0) {
        gemm(a_.data(), dp_, W, b.qkv, nullptr, qkv_.data(), qp_);
      } else {  // keys and values for the rows before r0, all three for the rest
        if (r0 > 0) gemm(a_.data(), dp_, r0, b.kv, nullptr, qkv_.data() + D, qp_);
        gemm(a_.data() + size_t(r0) * dp_, dp_, R, b.qkv, nullptr, qkv_.data() + size_t(r0) * qp_,
             qp_);
      }
      attention(r0);
      gemm(att_.data() + size_t(r0) * dp_, dp_, R, b.proj, nullptr,
           tmp_.data() + size_t(r0) * dp_, dp_);
      add_rows(r0);
      layer_norm(h_.data() + size_t(r0) * dp_, R, D, dp_, b.ln2_g, b.ln2_b, m.eps,
                 a_.data() + size_t(r0) * dp_, dp_);
      gemm(a_.data() + size_t(r0) * dp_, dp_, R, b.mlp0, nullptr,
           mlp_.data() + size_t(r0) * fp_, fp_);
      gelu(mlp_.data() + size_t(r0) * fp_, R * fp_);
      gemm(mlp_.data() + size_t(r0) * fp_, fp_, R, b.mlp2, nullptr,
           tmp_.data() + size_t(r0) * dp_, dp_);
      add_rows(r0);
    }
    layer_norm(h_.data() + size_t(W - 1) * dp_, 1, D, dp_, m.ln_g, m.ln_b, m.eps, a_.data(), dp_);
    gemm(a_.data(), dp_, 1, m.head, nullptr, head_.data(), m.head.n_pad);
    float level = 0.0f;
    for (int i = 0; i < N; ++i) {
      const float ls = std::min(std::max(head_[size_t(N + i)], m.ls_min), m.ls_max);
      const float x = head_[size_t(i)] + std::exp(ls) * noise[i];
      out[i] = x * m.spread + m.center;
      level += out[i];
    }
    level /= float(N);
    const float shift = std::min(std::max(level, m.level_lo), m.level_hi) - level;
    for (int i = 0; i < N; ++i) out[i] = std::min(std::max(out[i] + shift, m.lo), m.hi);
  }

  void add_rows(int r0) {
    for (size_t j = size_t(r0) * dp_; j < h_.size(); ++j) h_[j] += tmp_[j];
  }

  void attention(int r0) {
    causal_attention(qkv_.data(), qp_, m_.window, m_.d, m_.heads, r0, att_.data(), dp_,
                     scores_.data());
  }

  const TransformerModel& m_;
  int dp_ = 0, qp_ = 0, fp_ = 0;
  std::vector<float> state_, xn_, inp_, h_, a_, att_, tmp_, qkv_, mlp_, ctrl_, head_, scores_,
      noise_, frame_, cvec_;
  uint64_t seed_ = 0, k_ = 0;
  bool inp_valid_ = false, started_ = false;
};

std::unique_ptr<Session> TransformerModel::create_session() const {
  return std::make_unique<TransformerSession>(*this);
}

}  // namespace

std::shared_ptr<const Model> make_causal_transformer(const ModelFile& file) {
  auto m = std::make_shared<TransformerModel>();
  m->build(file);
  return m;
}

}  // namespace fk::model

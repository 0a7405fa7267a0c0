// The ambience step model (sdk/foleykit/models/transformer.py, CausalTransformer.step):
//   state <- state[1:] + frame;  x = (state - center) / spread
//   h = inp(x) + pos + ctrl(c);  pre-norm blocks (causal attention, GELU MLP);  head(ln(h[-1]))
//   next = stabilise(mu + exp(clamp(log_std)) * noise, in log-mel units)
//
// Only the newest position's output is used, so the last block computes keys and values for
// every position but attention, projection and MLP for the newest one only. While streaming,
// inp(x) of the positions that merely shifted is reused (the same numbers the full product
// would give: each row of a matrix product is computed the same way alone or in a block).
//
// The relative positional form (architecture.positional "relative"): no pos; each attention
// adds rel_bias[head][distance] and sees a band of `window` rows. A row's keys and values at
// every layer then depend only on the frames up to it and the controls, so RelativeSession
// keeps them in per-layer rings of `window` rows and a stream step runs the one new row
// through every layer. The step graph's state is the newest row's receptive field,
// S = layers * (window - 1) + 1 frames; the graph recomputes every row with the current
// controls, so the rings are rebuilt from the last S frames (row by row, the same arithmetic)
// when the stream starts and whenever the control vector changes.
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
  Packed kv;  // keys and values only: the absolute form's last block; relative run_step
  const float* rel_bias = nullptr;  // relative form: [heads][window]
};

class TransformerModel final : public Model {
 public:
  int c_dim = 0, n_mels = 0, window = 0, d = 0, heads = 0, layers = 0, ff = 0;
  bool relative = false;
  int rows = 0;  // frames of state a step takes: window, or layers * (window - 1) + 1
  float eps = 1e-5f, ls_min = -5.f, ls_max = 1.f;
  float lo = 0, hi = 0, center = 0, spread = 1, level_lo = 0, level_hi = 0;
  Packed inp, ctrl, head;
  std::vector<float> pos;  // [window][round16(d)]
  std::vector<float> norms;  // LayerNorm weights and distance biases, copied (the file is not kept)
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
    if (const Json* pk = a.find("positional")) {
      if (!pk->is_string() || (pk->as_string() != "absolute" && pk->as_string() != "relative"))
        invalid("architecture.positional must be \"absolute\" or \"relative\"");
      relative = pk->as_string() == "relative";
    }
    rows = relative ? layers * (window - 1) + 1 : window;
    if (int64_t(std::max(window, rows)) * std::max(ff, 3 * d) > (int64_t(1) << 24))
      invalid("architecture too large: rows * width exceeds 2^24");
    if (n_mels != info_.n_mels) invalid("architecture.n_mels differs from meta.n_mels");
    if (c_dim != info_.control_dim)
      invalid("architecture.c_dim (" + std::to_string(c_dim) + ") differs from the control "
              "schema's vector size (" + std::to_string(info_.control_dim) + ")");
    if (!relative) {
      if (require_int(f.meta(), "window_frames", "meta.window_frames", 1, 1024) != window)
        invalid("meta.window_frames differs from architecture.window");
    } else {
      if (require_int(f.meta(), "window_frames", "meta.window_frames", 1, 1024) != rows)
        invalid("meta.window_frames (the step's state) must be architecture.layers * "
                "(architecture.window - 1) + 1 = " + std::to_string(rows) +
                " for the relative positional form");
      if (require_int(f.meta(), "attention_window", "meta.attention_window", 1, 1024) != window)
        invalid("meta.attention_window differs from architecture.window");
    }
    info_.mode = Mode::Step;
    info_.window = rows;

    std::set<std::string> used;
    const int64_t D = d, N = n_mels;
    auto t = [&](const std::string& name, std::initializer_list<int64_t> shape) {
      return expect_tensor(f, name, shape, &used);
    };
    inp = Packed::linear(t("inp.weight", {D, N}), t("inp.bias", {D}), d, n_mels);
    ctrl = Packed::linear(t("ctrl.weight", {D, c_dim}), t("ctrl.bias", {D}), d, c_dim);
    if (!relative) {
      const float* p = t("pos", {window, D});
      const int dp = round16(d);
      pos.assign(size_t(window) * dp, 0.0f);
      for (int r = 0; r < window; ++r)
        std::memcpy(&pos[size_t(r) * dp], p + size_t(r) * d, 4 * d);
    }
    const size_t bias_floats = relative ? size_t(layers) * heads * window : 0;
    norms.assign(size_t(4 * layers + 2) * d + bias_floats, 0.0f);
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
      if (l + 1 == layers || relative)
        k.kv = Packed::linear(qkv_w + size_t(d) * d, qkv_b + d, 2 * d, d);
      if (relative) {
        float* dst = &norms[size_t(4 * layers + 2) * d + size_t(l) * heads * window];
        std::memcpy(dst, t(b + "rel_bias", {heads, window}), sizeof(float) * heads * window);
        for (int i = 0; i < heads * window; ++i)
          if (!std::isfinite(dst[i])) invalid("tensor '" + b + "rel_bias' holds NaN or Inf");
        k.rel_bias = dst;
      }
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

// What both sessions' streams share: the model, the encoded controls, the seed and frame
// counter, and the checks before a stream call.
class TransformerStreamSession : public Session {
 public:
  Status stream_set_controls(const float* values, int n_values) override {
    if (!started_) {
      fail("stream_set_controls before stream_reset");
      return Status::InvalidArgument;
    }
    return encode(values, n_values);
  }

 protected:
  explicit TransformerStreamSession(const TransformerModel& m)
      : m_(m), cvec_(size_t(m.c_dim) + 1, 0.0f) {}
  // A refused value leaves the stream's controls as they were (encode_controls checks
  // everything before it writes).
  Status encode(const float* values, int n_values) {
    return m_.encode_controls(values, n_values, cvec_.data(), error_, sizeof error_);
  }
  Status check_next(const float* log_mel, int count) {
    if (!started_) {
      fail("stream_next before stream_reset");
      return Status::InvalidArgument;
    }
    if (!log_mel || count < 0) {
      fail("stream_next: null output or negative count");
      return Status::InvalidArgument;
    }
    return Status::Ok;
  }

  // head(ln(h)) -> the next frame, drawn and stabilised as CausalTransformer.step does. h:
  // the newest row's hidden state (dp wide); a (dp) and head (the head's padded width):
  // scratch.
  void sample_frame(const float* h, int dp, const float* noise, float* a, float* head, float* out) const {
    const TransformerModel& m = m_;
    const int N = m.n_mels;
    layer_norm(h, 1, m.d, dp, m.ln_g, m.ln_b, m.eps, a, dp);
    gemm(a, dp, 1, m.head, nullptr, head, m.head.n_pad);
    float level = 0.0f;
    for (int i = 0; i < N; ++i) {
      const float ls = std::min(std::max(head[N + i], m.ls_min), m.ls_max);
      const float x = head[i] + std::exp(ls) * noise[i];
      out[i] = x * m.spread + m.center;
      level += out[i];
    }
    level /= float(N);
    const float shift = std::min(std::max(level, m.level_lo), m.level_hi) - level;
    for (int i = 0; i < N; ++i) out[i] = std::min(std::max(out[i] + shift, m.lo), m.hi);
  }

  const TransformerModel& m_;
  std::vector<float> cvec_;
  uint64_t seed_ = 0, k_ = 0;
  bool started_ = false;
};

class TransformerSession final : public TransformerStreamSession {
 public:
  explicit TransformerSession(const TransformerModel& m) : TransformerStreamSession(m) {
    const size_t W = size_t(m.window);
    dp_ = round16(m.d);
    qp_ = round16(3 * m.d);
    fp_ = round16(m.ff);
    state_.assign(W * m.n_mels, 0.0f);
    graph_state_.assign(W * m.n_mels, 0.0f);
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
  }

  Status run_step(const float* frame, const float* cvec, const float* noise, const float* state,
                  float* next_frame, float* next_state) override {
    if (!frame || (!cvec && m_.c_dim) || !noise || !state || !next_frame || !next_state) {
      fail("run_step: null buffer");
      return Status::InvalidArgument;
    }
    const size_t W = size_t(m_.window), N = size_t(m_.n_mels);
    // The graph step gets rows of its own (step() works on state_), so an open stream's
    // rows stay as they were; only its cached input projection must be recomputed.
    std::swap(state_, graph_state_);
    std::memmove(state_.data(), state + N, sizeof(float) * (W - 1) * N);
    std::memcpy(state_.data() + (W - 1) * N, frame, sizeof(float) * N);
    step(cvec, noise, next_frame, /*reuse_inp=*/false);
    std::memcpy(next_state, state_.data(), sizeof(float) * W * N);
    std::swap(state_, graph_state_);
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

  Status stream_next(float* log_mel, int count) override {
    if (Status st = check_next(log_mel, count); st != Status::Ok) return st;
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
    sample_frame(h_.data() + size_t(W - 1) * dp_, dp_, noise, a_.data(), head_.data(), out);
  }

  void add_rows(int r0) {
    for (size_t j = size_t(r0) * dp_; j < h_.size(); ++j) h_[j] += tmp_[j];
  }

  void attention(int r0) {
    causal_attention(qkv_.data(), qp_, m_.window, m_.d, m_.heads, r0, att_.data(), dp_,
                     scores_.data());
  }

  int dp_ = 0, qp_ = 0, fp_ = 0;
  std::vector<float> state_, graph_state_, xn_, inp_, h_, a_, att_, tmp_, qkv_, mlp_, ctrl_, head_, scores_,
      noise_, frame_;
  bool inp_valid_ = false;
};

// The relative form: per-layer rings of keys and values, one row per stream step.
class RelativeSession final : public TransformerStreamSession {
  // What a sequence of rows leaves behind: the last S frames and the rings. The stream and
  // the raw graph step (run_step, for parity) each have their own, so neither disturbs the
  // other.
  struct Rows {
    std::vector<float> hist;   // S frames; the oldest at head0
    std::vector<float> kring;  // [layers][window][d]
    std::vector<float> vring;
    std::vector<float> ctrl;   // ctrl(c) of the controls the rings were made with
    std::vector<int> valid;    // rows in each layer's ring (up to window)
    int head0 = 0;
    int slot = 0;              // the ring slot of the newest row (every layer)

    void init(const TransformerModel& m, int dp) {
      hist.assign(size_t(m.rows) * m.n_mels, 0.0f);
      kring.assign(size_t(m.layers) * m.window * m.d, 0.0f);
      vring.assign(size_t(m.layers) * m.window * m.d, 0.0f);
      ctrl.assign(size_t(dp), 0.0f);
      valid.assign(size_t(m.layers), 0);
    }
  };

 public:
  explicit RelativeSession(const TransformerModel& m) : TransformerStreamSession(m) {
    const size_t W = size_t(m.window), N = size_t(m.n_mels);
    dp_ = round16(m.d);
    qp_ = round16(3 * m.d);
    fp_ = round16(m.ff);
    stream_.init(m, dp_);
    graph_.init(m, dp_);
    xn_.assign(N + 16, 0.0f);
    const size_t S = size_t(m.rows);  // rebuild_batched(): S rows each
    kp_ = round16(2 * m.d);
    bx_.assign(S * N, 0.0f);
    bh_.assign(S * dp_, 0.0f);
    ba_.assign(S * dp_, 0.0f);
    batt_.assign(S * dp_, 0.0f);
    btmp_.assign(S * dp_, 0.0f);
    bqkv_.assign(S * qp_ + kp_, 0.0f);  // + kp_: a keys-and-values product written at column d
    bmlp_.assign(S * fp_, 0.0f);
    h_.assign(size_t(dp_), 0.0f);
    a_.assign(size_t(dp_), 0.0f);
    att_.assign(size_t(dp_), 0.0f);
    tmp_.assign(size_t(dp_), 0.0f);
    qkv_.assign(size_t(qp_), 0.0f);
    mlp_.assign(size_t(fp_), 0.0f);
    head_.assign(size_t(m.head.n_pad), 0.0f);
    scores_.assign(W + 8, 0.0f);
    noise_.assign(N + 1, 0.0f);
    frame_.assign(N, 0.0f);
    rings_cvec_.assign(size_t(m.c_dim) + 1, 0.0f);
  }

  Status run_step(const float* frame, const float* cvec, const float* noise, const float* state,
                  float* next_frame, float* next_state) override {
    if (!frame || (!cvec && m_.c_dim) || !noise || !state || !next_frame || !next_state) {
      fail("run_step: null buffer");
      return Status::InvalidArgument;
    }
    const size_t S = size_t(m_.rows), N = size_t(m_.n_mels);
    // the graph's state (state[1:] + frame), in order, then every row through the rings
    Rows& g = graph_;
    std::memcpy(g.hist.data(), state + N, sizeof(float) * (S - 1) * N);
    std::memcpy(g.hist.data() + (S - 1) * N, frame, sizeof(float) * N);
    g.head0 = 0;
    control_embedding(g, cvec);
    rebuild_batched(g, /*last_output=*/true);
    sample(noise, next_frame);
    std::memcpy(next_state, g.hist.data(), sizeof(float) * S * N);
    return Status::Ok;
  }

  Status stream_reset(const float* values, int n_values, uint64_t seed) override {
    if (Status st = encode(values, n_values); st != Status::Ok) return st;
    // as the graph's first step sees it: a state of floor frames, then a floor frame
    std::fill(stream_.hist.begin(), stream_.hist.end(), m_.lo);
    std::fill(frame_.begin(), frame_.end(), m_.lo);
    stream_.head0 = 0;
    control_embedding(stream_, cvec_.data());
    rebuild(stream_, /*last_output=*/false);
    std::memcpy(rings_cvec_.data(), cvec_.data(), sizeof(float) * cvec_.size());
    seed_ = seed;
    k_ = 0;
    started_ = true;
    return Status::Ok;
  }

  // The inherited stream_set_controls only encodes: the rings follow at the next frame, so
  // several changes between two frames cost one rebuild, and changing back costs none.
  Status stream_next(float* log_mel, int count) override {
    if (Status st = check_next(log_mel, count); st != Status::Ok) return st;
    const int S = m_.rows, W = m_.window;
    const size_t N = size_t(m_.n_mels);
    Rows& st = stream_;
    // The graph embeds every row of its state with the current controls: new controls mean
    // new keys and values for the cached rows too.
    if (std::memcmp(cvec_.data(), rings_cvec_.data(), sizeof(float) * size_t(m_.c_dim)) != 0) {
      control_embedding(st, cvec_.data());
      rebuild(st, /*last_output=*/false);
      std::memcpy(rings_cvec_.data(), cvec_.data(), sizeof(float) * cvec_.size());
    }
    for (int i = 0; i < count; ++i) {
      seed_noise(seed_, k_, noise_.data(), m_.n_mels);
      // the previous output becomes the newest frame of the history (a ring of S frames)
      std::memcpy(st.hist.data() + size_t(st.head0) * N, frame_.data(), sizeof(float) * N);
      st.head0 = st.head0 + 1 == S ? 0 : st.head0 + 1;
      st.slot = st.slot + 1 == W ? 0 : st.slot + 1;
      row(st, frame_.data(), /*r=*/S, /*last_output=*/true);
      sample(noise_.data(), frame_.data());
      std::memcpy(log_mel + size_t(i) * N, frame_.data(), sizeof(float) * N);
      ++k_;
    }
    return Status::Ok;
  }

 private:

  void control_embedding(Rows& rs, const float* cvec) {
    gemm(cvec, 0, 1, m_.ctrl, nullptr, rs.ctrl.data(), dp_);
  }

  // The rings from the S frames of the history (oldest at head0), row by row, oldest first,
  // exactly as the stream computes a row (the same products, the same ring slots: the newest
  // row stays at rs.slot), so rebuilding rings for the controls they already hold gives them
  // back bit for bit. Row r's keys and values at layer l are needed only when
  // r >= l * (window - 1), its output only when the next layer needs it (or for the newest
  // row of a graph step, whose output is left in h_).
  void rebuild(Rows& rs, bool last_output) {
    const int S = m_.rows, W = m_.window;
    const size_t N = size_t(m_.n_mels);
    const int newest = rs.slot;
    std::fill(rs.valid.begin(), rs.valid.end(), 0);
    for (int r = 0; r < S; ++r) {
      rs.slot = ((newest - (S - 1 - r)) % W + W) % W;
      row(rs, rs.hist.data() + size_t((rs.head0 + r) % S) * N, r, last_output && r == S - 1);
    }
    rs.slot = newest;
  }

  // run_step's rows (graph_): as the graph computes them, but only what the newest row
  // depends on, each layer as one product over its rows (faster than rebuild(), not
  // bit-identical to the stream's rows, which run_step never meets):
  // row r's keys and values at layer l are needed only when r >= l * (window - 1), its
  // output only when the next layer needs it (or for the newest row of a graph step, whose
  // output is left in h_). Row r lands in ring slot r mod window, as row() would put it.
  void rebuild_batched(Rows& rs, bool last_output) {
    const TransformerModel& m = m_;
    const int S = m.rows, W = m.window, N = m.n_mels, D = m.d, L = m.layers;
    for (int r = 0; r < S; ++r) {
      const float* x = rs.hist.data() + size_t((rs.head0 + r) % S) * N;
      for (int i = 0; i < N; ++i) bx_[size_t(r) * N + i] = (x[i] - m.center) / m.spread;
    }
    gemm(bx_.data(), N, S, m.inp, rs.ctrl.data(), bh_.data(), dp_);
    for (int l = 0; l < L; ++l) {
      const Block& b = m.blocks[size_t(l)];
      const int k0 = l * (W - 1);
      const int o0 = l + 1 < L ? (l + 1) * (W - 1) : (last_output ? S - 1 : S);
      float* h = bh_.data();
      layer_norm(h + size_t(k0) * dp_, S - k0, D, dp_, b.ln1_g, b.ln1_b, m.eps,
                 ba_.data() + size_t(k0) * dp_, dp_);
      if (o0 > k0)
        gemm(ba_.data() + size_t(k0) * dp_, dp_, o0 - k0, b.kv, nullptr,
             bqkv_.data() + size_t(k0) * qp_ + D, qp_);
      if (S > o0)
        gemm(ba_.data() + size_t(o0) * dp_, dp_, S - o0, b.qkv, nullptr,
             bqkv_.data() + size_t(o0) * qp_, qp_);
      float* K = &rs.kring[size_t(l) * W * D];
      float* V = &rs.vring[size_t(l) * W * D];
      for (int r = S - W; r < S; ++r) {
        const float* kv = bqkv_.data() + size_t(r) * qp_ + D;
        std::memcpy(K + size_t(r % W) * D, kv, sizeof(float) * D);
        std::memcpy(V + size_t(r % W) * D, kv + D, sizeof(float) * D);
      }
      rs.valid[size_t(l)] = W;
      if (S == o0) continue;
      for (int r = o0; r < S; ++r) {  // rows r-W+1 .. r, contiguous: a ring read in order
        const float* q = bqkv_.data() + size_t(r) * qp_;
        const float* k = bqkv_.data() + size_t(r - W + 1) * qp_ + D;
        ring_attention(q, k, k + D, qp_, W, W - 1, W, D, m.heads, b.rel_bias,
                       batt_.data() + size_t(r) * dp_, scores_.data());
      }
      const int R = S - o0;
      float* ho = h + size_t(o0) * dp_;
      gemm(batt_.data() + size_t(o0) * dp_, dp_, R, b.proj, nullptr,
           btmp_.data() + size_t(o0) * dp_, dp_);
      for (size_t j = 0; j < size_t(R) * dp_; ++j) ho[j] += btmp_[size_t(o0) * dp_ + j];
      layer_norm(ho, R, D, dp_, b.ln2_g, b.ln2_b, m.eps, ba_.data() + size_t(o0) * dp_, dp_);
      gemm(ba_.data() + size_t(o0) * dp_, dp_, R, b.mlp0, nullptr,
           bmlp_.data() + size_t(o0) * fp_, fp_);
      gelu(bmlp_.data() + size_t(o0) * fp_, R * fp_);
      gemm(bmlp_.data() + size_t(o0) * fp_, fp_, R, b.mlp2, nullptr,
           btmp_.data() + size_t(o0) * dp_, dp_);
      for (size_t j = 0; j < size_t(R) * dp_; ++j) ho[j] += btmp_[size_t(o0) * dp_ + j];
    }
    rs.slot = (S - 1) % W;
    if (last_output) std::memcpy(h_.data(), bh_.data() + size_t(S - 1) * dp_, sizeof(float) * dp_);
  }

  // Row r of frame x through the layers (a stream step's new row: r = rows, past every
  // bound): its keys and values go to ring slot rs.slot and its queries attend over the ring.
  // Leaves the last layer's output in h_ when `last_output`.
  void row(Rows& rs, const float* x, int r, bool last_output) {
    const TransformerModel& m = m_;
    const int W = m.window, N = m.n_mels, D = m.d, L = m.layers;
    for (int i = 0; i < N; ++i) xn_[size_t(i)] = (x[i] - m.center) / m.spread;
    gemm(xn_.data(), N, 1, m.inp, rs.ctrl.data(), h_.data(), dp_);
    for (int l = 0; l < L; ++l) {
      if (r < l * (W - 1)) return;  // no later row's output depends on it
      const Block& b = m.blocks[size_t(l)];
      layer_norm(h_.data(), 1, D, dp_, b.ln1_g, b.ln1_b, m.eps, a_.data(), dp_);
      gemm(a_.data(), dp_, 1, b.qkv, nullptr, qkv_.data(), qp_);
      float* K = &rs.kring[size_t(l) * W * D];
      float* V = &rs.vring[size_t(l) * W * D];
      std::memcpy(K + size_t(rs.slot) * D, qkv_.data() + D, sizeof(float) * D);
      std::memcpy(V + size_t(rs.slot) * D, qkv_.data() + 2 * D, sizeof(float) * D);
      int& valid = rs.valid[size_t(l)];
      if (valid < W) ++valid;
      if (!(l + 1 < L ? r >= (l + 1) * (W - 1) : last_output)) return;
      ring_attention(qkv_.data(), K, V, D, W, rs.slot, valid, D, m.heads, b.rel_bias,
                     att_.data(), scores_.data());
      gemm(att_.data(), dp_, 1, b.proj, nullptr, tmp_.data(), dp_);
      for (int i = 0; i < D; ++i) h_[size_t(i)] += tmp_[size_t(i)];
      layer_norm(h_.data(), 1, D, dp_, b.ln2_g, b.ln2_b, m.eps, a_.data(), dp_);
      gemm(a_.data(), dp_, 1, b.mlp0, nullptr, mlp_.data(), fp_);
      gelu(mlp_.data(), m.ff);
      gemm(mlp_.data(), fp_, 1, b.mlp2, nullptr, tmp_.data(), dp_);
      for (int i = 0; i < D; ++i) h_[size_t(i)] += tmp_[size_t(i)];
    }
  }

  void sample(const float* noise, float* out) {
    sample_frame(h_.data(), dp_, noise, a_.data(), head_.data(), out);
  }

  int dp_ = 0, qp_ = 0, fp_ = 0, kp_ = 0;
  std::vector<float> bx_, bh_, ba_, batt_, btmp_, bqkv_, bmlp_;
  Rows stream_, graph_;
  std::vector<float> xn_, h_, a_, att_, tmp_, qkv_, mlp_, head_, scores_, noise_, frame_,
      rings_cvec_;  // rings_cvec_: the controls the stream's rings were made with
};

std::unique_ptr<Session> TransformerModel::create_session() const {
  if (relative) return std::make_unique<RelativeSession>(*this);
  return std::make_unique<TransformerSession>(*this);
}

}  // namespace

std::shared_ptr<const Model> make_causal_transformer(const ModelFile& file) {
  auto m = std::make_shared<TransformerModel>();
  m->build(file);
  return m;
}

}  // namespace fk::model

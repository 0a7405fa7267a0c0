// The one-shot decoder shared by the VAE and the GAN (sdk/foleykit/models/decoder.py):
//   h = leaky(fc([z, c]))            reshaped to base_frames frames of `channels`
//   h = h + leaky(conv_0(h) + cond_0(c))
//   for each later stage: u = h doubled in time (nearest); h = u + leaky(conv_i(u) + cond_i(c))
//   out = conv_out(h) -> log_mel = bounded(out[:n_mels]), alive_logits = out[n_mels]
//
// Doubling then convolving is computed as two convolutions over the undoubled input (one per
// output phase, taps merged: 3 instead of 5 for kernel 5), which is exact and saves 40% of the
// arithmetic of every later stage.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/kernels.hpp"
#include "model/model_impl.hpp"
#include "model/vecmath.hpp"

namespace fk::model {
namespace {

struct Stage {
  Packed conv;             // stage 0: the convolution itself
  Packed phase[2];         // later stages: the two output phases of doubling + convolution
  int dmin[2] = {0, 0};
  bool winograd = false;   // both phases are three-tap (kernel 5): run them by F(2,3)
  Winograd3 wphase[2];
  Packed cond;             // control vector -> per-channel bias
};

class ClipDecoderModel final : public Model {
 public:
  int z_dim = 0, c_dim = 0, n_mels = 0, frames = 0, channels = 0, base = 0, kernel = 0;
  int stages = 0;  // doublings
  float slope = 0.2f;
  float lo = 0, hi = 0;
  Packed fc;       // rows permuted so its output is time-major
  std::vector<Stage> stage;
  Winograd3 wout;  // kernel-3 output convolution (the n_mels log-mel channels), F(2,3)
  std::vector<float> alive_w;  // its last channel (alive logits), in receptive-field order
  float alive_b = 0.0f;
  int pad = 0;     // zero rows above and below every activation buffer

  std::unique_ptr<Session> create_session() const override;

  // Doubling + conv_i, output phase r, as a three-tap convolution over the undoubled input
  // (taps for rows m-1, m, m+1), for Winograd.
  Winograd3 phase_taps(const float* W, const float* b, int r) const {
    const int C = channels, p = kernel / 2;
    std::vector<float> taps(size_t(3) * C * C, 0.0f);
    for (int k = 0; k < kernel; ++k) {
      const int j = r + k - p;
      const int d = (j >= 0 ? j / 2 : -((-j + 1) / 2)) + 1;  // floor(j / 2) - (-1)
      for (int o = 0; o < C; ++o)
        for (int i = 0; i < C; ++i)
          taps[(size_t(d) * C + o) * C + i] += W[(size_t(o) * C + i) * kernel + k];
    }
    return Winograd3::make(taps.data(), b, C, C);
  }

  void build(const ModelFile& f, Family family) {
    init_common(f, family);
    const Json& a = f.architecture();
    z_dim = int(require_int(a, "z_dim", "architecture.z_dim", 1, 1024));
    c_dim = int(require_int(a, "c_dim", "architecture.c_dim", 0, 4096));
    n_mels = int(require_int(a, "n_mels", "architecture.n_mels", 1, 1024));
    frames = int(require_int(a, "frames", "architecture.frames", 1, 16384));
    channels = int(require_int(a, "channels", "architecture.channels", 1, 1024));
    base = int(require_int(a, "base_frames", "architecture.base_frames", 1, 16384));
    kernel = int(require_int(a, "kernel", "architecture.kernel", 1, 31));
    slope = float(require_number(a, "leaky_slope", "architecture.leaky_slope"));
    if (!std::isfinite(slope)) invalid("architecture.leaky_slope is not finite");
    if (kernel % 2 == 0) invalid("architecture.kernel must be odd (same padding)");
    while ((base << stages) < frames) ++stages;
    if ((base << stages) != frames)
      invalid("architecture.frames must be base_frames times a power of two");
    if (int64_t(frames) * channels > (int64_t(1) << 24))
      invalid("architecture too large: frames * channels exceeds 2^24");
    if (n_mels != info_.n_mels) invalid("architecture.n_mels differs from meta.n_mels");
    if (c_dim != info_.control_dim)
      invalid("architecture.c_dim (" + std::to_string(c_dim) + ") differs from the control "
              "schema's vector size (" + std::to_string(info_.control_dim) + ")");
    const Json& meta = f.meta();
    if (require_int(meta, "max_frames", "meta.max_frames", 1, 16384) != frames)
      invalid("meta.max_frames differs from architecture.frames");
    if (require_int(meta, "z_dim", "meta.z_dim", 1, 1024) != z_dim)
      invalid("meta.z_dim differs from architecture.z_dim");
    info_.mode = Mode::OneShot;
    info_.max_frames = frames;
    info_.z_dim = z_dim;

    std::set<std::string> used;
    const int64_t C = channels, K = kernel, in = z_dim + c_dim;
    const float* fcw = expect_tensor(f, "fc.weight", {C * base, in}, &used);
    const float* fcb = expect_tensor(f, "fc.bias", {C * base}, &used);
    // torch reshapes the fc output to (channels, base): entry c * base + t. Permute the rows
    // to t * channels + c so the output lands time-major.
    std::vector<float> w(size_t(C * base * in)), b(size_t(C * base));
    for (int t = 0; t < base; ++t)
      for (int c = 0; c < channels; ++c) {
        const size_t src = size_t(c) * base + t, dst = size_t(t) * channels + c;
        std::memcpy(&w[dst * in], fcw + src * in, sizeof(float) * in);
        b[dst] = fcb[src];
      }
    fc = Packed::linear(w.data(), b.data(), int(C * base), int(in));
    stage.resize(size_t(stages) + 1);
    for (int i = 0; i <= stages; ++i) {
      const std::string p = std::to_string(i);
      const float* cw = expect_tensor(f, "convs." + p + ".weight", {C, C, K}, &used);
      const float* cb = expect_tensor(f, "convs." + p + ".bias", {C}, &used);
      const float* qw = expect_tensor(f, "cond." + p + ".weight", {C, c_dim}, &used);
      const float* qb = expect_tensor(f, "cond." + p + ".bias", {C}, &used);
      Stage& s = stage[size_t(i)];
      if (i == 0) {
        s.conv = Packed::conv(cw, cb, channels, channels, kernel);
      } else {
        // Kernel 5 (the default) is the one whose two phases are both three taps over input
        // rows m-1..m+1: those run by Winograd; other kernels by the plain product.
        s.winograd = kernel == 5;
        for (int r = 0; r < 2; ++r) {
          if (s.winograd)
            s.wphase[r] = phase_taps(cw, cb, r);
          else
            s.phase[r] = Packed::upsample2_conv_phase(cw, cb, channels, channels, kernel, r,
                                                      &s.dmin[r]);
        }
      }
      s.cond = Packed::linear(qw, qb, channels, c_dim);
    }
    const float* ow = expect_tensor(f, "out.weight", {int64_t(n_mels) + 1, C, 3}, &used);
    const float* ob = expect_tensor(f, "out.bias", {int64_t(n_mels) + 1}, &used);
    {
      std::vector<float> taps(size_t(3) * n_mels * channels);
      for (int k = 0; k < 3; ++k)
        for (int o = 0; o < n_mels; ++o)
          for (int i = 0; i < channels; ++i)
            taps[(size_t(k) * n_mels + o) * channels + i] = ow[(size_t(o) * channels + i) * 3 + k];
      wout = Winograd3::make(taps.data(), ob, n_mels, channels);
    }
    // The alive channel apart: generate() reads it first and then computes log-mel frames only
    // up to the clip's end.
    alive_w.resize(size_t(3) * channels);
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i < channels; ++i)
        alive_w[size_t(k) * channels + i] = ow[(size_t(n_mels) * channels + i) * 3 + k];
    alive_b = ob[n_mels];
    lo = *expect_tensor(f, "stats.lo", {}, &used);
    hi = *expect_tensor(f, "stats.hi", {}, &used);
    if (!(hi > lo)) invalid("stats.hi must exceed stats.lo");
    refuse_unused(f, used);
    pad = std::max(kernel / 2, 1) + 1;
  }
};

class ClipDecoderSession final : public Session {
 public:
  explicit ClipDecoderSession(const ClipDecoderModel& m) : m_(m) {
    const size_t rows = size_t(m.frames) + 2 * m.pad;
    buf_[0].assign(rows * m.channels, 0.0f);
    buf_[1].assign(rows * m.channels, 0.0f);
    acc_ld_ = std::max(round16(m.channels), m.wout.n_pad());
    alive_.assign(size_t(m.frames), 0.0f);
    wu_.assign(winograd3_u_floats(m.frames, m.channels), 0.0f);
    wm_.assign(winograd3_m_floats(m.frames, std::max(round16(m.channels), m.wout.n_pad())), 0.0f);
    acc_.assign(size_t(m.frames) * acc_ld_, 0.0f);
    fc_out_.assign(size_t(m.fc.n_pad), 0.0f);
    in_.assign(size_t(m.z_dim + m.c_dim), 0.0f);
    cond_.assign(size_t(round16(m.channels)), 0.0f);
    z_.assign(size_t(m.z_dim) + 1, 0.0f);
    cvec_.assign(size_t(m.c_dim) + 1, 0.0f);
  }

  Status run_one_shot(const float* z, const float* control_vec, float* log_mel,
                      float* alive_logits) override {
    if (!z || (!control_vec && m_.c_dim) || !log_mel || !alive_logits) {
      fail("run_one_shot: null buffer");
      return Status::InvalidArgument;
    }
    forward(z, control_vec);
    output_conv(m_.frames);
    write_outputs(log_mel, m_.frames);
    std::memcpy(alive_logits, alive_.data(), sizeof(float) * m_.frames);
    return Status::Ok;
  }

  Status generate(const float* values, int n_values, uint64_t seed, float* log_mel,
                  int capacity_frames, int* frames) override {
    if (!log_mel || !frames) {
      fail("generate: null output");
      return Status::InvalidArgument;
    }
    if (capacity_frames < m_.frames) {
      fail("generate: capacity of %d frames is below the model's %d", capacity_frames,
           m_.frames);
      return Status::BufferTooSmall;
    }
    if (Status st = encode(values, n_values); st != Status::Ok) return st;
    seed_noise(seed, 0, z_.data(), m_.z_dim);
    forward(z_.data(), cvec_.data());
    // alive first: frames after the last sounding one are neither computed nor written.
    int end = 0;
    for (int t = 0; t < m_.frames; ++t)
      if (alive_[size_t(t)] > 0.0f) end = t + 1;
    end = std::max(end, 1);
    output_conv(end);
    write_outputs(log_mel, end);
    *frames = end;
    return Status::Ok;
  }

 private:
  Status encode(const float* values, int n_values) {
    return m_.encode_controls(values, n_values, cvec_.data(), error_, sizeof error_);
  }

  void forward(const float* z, const float* cvec) {
    const ClipDecoderModel& m = m_;
    const int C = m.channels, pad = m.pad;
    std::memcpy(in_.data(), z, sizeof(float) * m.z_dim);
    if (m.c_dim) std::memcpy(in_.data() + m.z_dim, cvec, sizeof(float) * m.c_dim);
    gemm(in_.data(), 0, 1, m.fc, nullptr, fc_out_.data(), m.fc.n_pad);
    float* x = buf_[0].data();
    float* y = buf_[1].data();
    int T = m.base;
    for (int i = 0; i < T * C; ++i) {
      const float v = fc_out_[size_t(i)];
      x[size_t(pad) * C + i] = v > 0.0f ? v : m.slope * v;
    }
    zero_tail(x, T);
    for (int s = 0; s <= m.stages; ++s) {
      const Stage& st = m.stage[size_t(s)];
      gemm(cvec, 0, 1, st.cond, nullptr, cond_.data(), int(cond_.size()));
      const int T_out = s == 0 ? T : 2 * T;
      if (s == 0) {
        gemm(x + size_t(pad - m.kernel / 2) * C, C, T, st.conv, cond_.data(), acc_.data(),
             acc_ld_);
      } else if (st.winograd) {
        winograd3_input(x + size_t(pad) * C, C, T, wu_.data());
        for (int r = 0; r < 2; ++r)
          winograd3_conv(wu_.data(), C, T, st.wphase[r], cond_.data(), wm_.data(),
                         acc_.data() + size_t(r) * acc_ld_, 2 * acc_ld_);
      } else {
        for (int r = 0; r < 2; ++r)
          gemm(x + size_t(pad + st.dmin[r]) * C, C, T, st.phase[r], cond_.data(),
               acc_.data() + size_t(r) * acc_ld_, 2 * acc_ld_);
      }
      // y = u + leaky(acc), u = x (stage 0) or x doubled.
      const int shift = s == 0 ? 0 : 1;
      for (int t = 0; t < T_out; ++t) {
        const float* u = x + size_t(pad + (t >> shift)) * C;
        const float* a = acc_.data() + size_t(t) * acc_ld_;
        float* yo = y + size_t(pad + t) * C;
        for (int c = 0; c < C; ++c) {
          const float v = a[c];
          yo[c] = u[c] + (v > 0.0f ? v : m.slope * v);
        }
      }
      T = T_out;
      zero_tail(y, T);
      std::swap(x, y);
    }
    last_ = x;
    // The alive logits: one output channel of the kernel-3 convolution, a dot product per
    // frame over its contiguous receptive field.
    const int depth = 3 * C;
    for (int t = 0; t < T; ++t) {
      const float* r = x + size_t(pad - 1 + t) * C;
      float s = 0.0f;
      int i = 0;
#if defined(FK_HAVE_VEC8)
      vec::v8 acc = vec::splat(0.0f);
      for (; i + 8 <= depth; i += 8) acc += vec::load(r + i) * vec::load(&m.alive_w[size_t(i)]);
      s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
#endif
      for (; i < depth; ++i) s += r[i] * m.alive_w[size_t(i)];
      alive_[size_t(t)] = s + m.alive_b;
    }
  }

  // The log-mel channels of the output convolution for the first `frames` frames.
  void output_conv(int frames) {
    const int C = m_.channels;
    winograd3_input(last_ + size_t(m_.pad) * C, C, frames, wu_.data());
    winograd3_conv(wu_.data(), C, frames, m_.wout, nullptr, wm_.data(), acc_.data(), acc_ld_);
  }

  // Zero the pad rows after T valid rows (a previous, longer use may have left data there).
  void zero_tail(float* buf, int T) {
    std::memset(buf + size_t(m_.pad + T) * m_.channels, 0,
                sizeof(float) * size_t(m_.pad) * m_.channels);
  }

  // bounded(): lo - 0.05 span + 1.1 span sigmoid(raw), clamped to [lo, hi]; folded the way
  // torch's exporter folds it (span, both products in float32).
  void write_outputs(float* log_mel, int frames) {
    const ClipDecoderModel& m = m_;
    const float span = m.hi - m.lo;
    const float add = m.lo - 0.05f * span, mul = 1.1f * span;
    const int M = m.n_mels;
    for (int t = 0; t < frames; ++t) {
      const float* a = acc_.data() + size_t(t) * acc_ld_;
      float* o = log_mel + size_t(t) * M;
      int i = 0;
#if defined(FK_HAVE_VEC8)
      for (; i + 8 <= M; i += 8) {
        const vec::v8 v = vec::splat(add) + vec::splat(mul) * vec::sigmoid(vec::load(a + i));
        vec::store(o + i, vec::vmin(vec::vmax(v, vec::splat(m.lo)), vec::splat(m.hi)));
      }
#endif
      for (; i < M; ++i) {
        const float v = add + mul * (1.0f / (1.0f + std::exp(-a[i])));
        o[i] = std::min(std::max(v, m.lo), m.hi);
      }
    }
  }

  const ClipDecoderModel& m_;
  std::vector<float> buf_[2], acc_, fc_out_, in_, cond_, z_, alive_, cvec_, wu_, wm_;
  int acc_ld_ = 0;
  const float* last_ = nullptr;  // the last stage's activations (padded rows), set by forward
};

std::unique_ptr<Session> ClipDecoderModel::create_session() const {
  return std::make_unique<ClipDecoderSession>(*this);
}

}  // namespace

std::shared_ptr<const Model> make_clip_decoder(const ModelFile& file, Family family) {
  auto m = std::make_shared<ClipDecoderModel>();
  m->build(file, family);
  return m;
}

}  // namespace fk::model

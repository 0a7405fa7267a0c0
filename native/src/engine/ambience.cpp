#include "engine/ambience.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/error.hpp"
#include "dsp/fft.hpp"

namespace fk::engine {

ControlSmoother::ControlSmoother(const model::Model& m, int frames) : frames_(std::max(frames, 1)) {
  for (const model::ControlInfo& ci : m.controls()) {
    Control c;
    c.categorical = ci.categorical;
    c.log = ci.log && ci.low > 0.0f;
    c.low = ci.low;
    c.high = ci.high;
    c_.push_back(c);
  }
  from_.assign(c_.size(), 0.0f);
  to_ = cur_ = from_;
  std::vector<float> d(c_.size());
  m.default_controls(d.data());
  reset(d.data());
}

void ControlSmoother::reset(const float* values) {
  std::copy(values, values + c_.size(), cur_.begin());
  from_ = to_ = cur_;
  left_ = 0;
  jumped_ = false;
}

void ControlSmoother::set_target(const float* values) {
  for (size_t i = 0; i < c_.size(); ++i) {
    if (c_[i].categorical) {
      if (cur_[i] != values[i]) jumped_ = true;
      from_[i] = to_[i] = cur_[i] = values[i];
    } else {
      from_[i] = cur_[i];
      to_[i] = values[i];
    }
  }
  left_ = frames_;
}

bool ControlSmoother::step() {
  bool changed = jumped_;
  jumped_ = false;
  if (left_ > 0) {
    --left_;
    const float a = 1.0f - float(left_) / float(frames_);
    for (size_t i = 0; i < c_.size(); ++i) {
      const Control& c = c_[i];
      if (c.categorical || from_[i] == to_[i]) continue;
      float v = c.log ? std::exp(std::log(from_[i]) + a * (std::log(to_[i]) - std::log(from_[i])))
                      : from_[i] + a * (to_[i] - from_[i]);
      if (left_ == 0) v = to_[i];
      v = std::min(std::max(v, c.low), c.high);  // rounding must not leave the valid range
      if (v != cur_[i]) changed = true;
      cur_[i] = v;
    }
  }
  return changed;
}

AmbienceProducer::AmbienceProducer(const ModelEntry& m, const Tier& tier, const float* values,
                                   uint64_t seed, int smoothing_frames)
    : m_(m),
      session_(m.model->create_session()),
      synth_(m.n_fft, m.hop, tier.ambience, seed),
      smooth_(*m.model, smoothing_frames) {
  const int n = m.n_controls;
  Status st = session_->stream_reset(values, values ? n : 0, seed);
  if (st != Status::Ok) throw Error(st, session_->last_error());
  if (values) smooth_.reset(values);
  const int nb = m.n_fft / 2 + 1;
  mel_.assign(size_t(m.n_mels), 0.0f);
  lin_.assign(size_t(nb) * size_t(batch_frames()), 0.0f);
  out_.assign(size_t(synth_.max_push_output(batch_frames())), 0.0f);
}

int AmbienceProducer::batch_frames() const { return dsp::kFftLanes; }

Status AmbienceProducer::produce(SampleRing& ring, float* peak) noexcept {
  const int B = batch_frames(), nb = m_.n_fft / 2 + 1;
  for (int j = 0; j < B; ++j, ++frame_) {
    controls_pending_ |= smooth_.step();
    if (controls_pending_ && frame_ % kControlStride == 0) {
      const Status st = session_->stream_set_controls(smooth_.current(), m_.n_controls);
      if (st != Status::Ok) return st;
      controls_pending_ = false;
    }
    const Status st = session_->stream_next(mel_.data(), 1);
    if (st != Status::Ok) return st;
    // As fk_stream_push and Runtime.stream: exp of the log-mel, then the mel inverse.
    for (float& v : mel_) v = std::exp(v);
    m_.inverse->apply_frame(mel_.data(), lin_.data() + size_t(j) * size_t(nb));
  }
  int64_t written = 0;
  const Status st = synth_.push(lin_.data(), B, 1, nb, out_.data(), int64_t(out_.size()), &written);
  if (st != Status::Ok) return st;
  if (peak)
    for (int64_t i = 0; i < written; ++i) *peak = std::max(*peak, std::fabs(out_[size_t(i)]));
  ring.write(out_.data(), size_t(written));
  return Status::Ok;
}

}  // namespace fk::engine

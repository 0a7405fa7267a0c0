#include "dsp/streaming_synth.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace fk::dsp {

StreamingSynth::StreamingSynth(int n_fft, int hop, StreamMethod method, uint64_t seed)
    : n_fft_(n_fft), hop_(hop), nb_(n_fft / 2 + 1), method_(method), seed_(seed),
      gamma_(hann_gamma(n_fft)), range_(-std::log(kPghiTolerance)), inv_range_(1.0f / range_),
      fft_((validate_fft_params(n_fft, hop), n_fft)) {
  if (method != StreamMethod::Rtpghi && method != StreamMethod::Random)
    throw Error(Status::InvalidArgument, "unknown streaming method");
  auto plan = get_stft_plan(n_fft, hop);
  window_ = plan->window();
  inv_env_ = plan->inv_envelope_periodic();
  env_floor_ = plan->envelope_floor(EnvelopeFloor::Synthesis);
  adv_ = bin_advance(nb_, n_fft, hop);
  for (int i = 0; i < 3; ++i) {
    s_[i].assign(nb_, 0.0f);
    mag_[i].assign(nb_, 0.0f);
  }
  for (int i = 0; i < 3; ++i) {
    tgr_[i].assign(nb_, 0.0f);
    flipr_[i].assign(nb_, 0);
  }
  fg_.assign(nb_, 0.0f);
  phase_prev_.assign(nb_, 0.0f);
  phase_cur_.assign(nb_, 0.0f);
  fg_next_.assign(nb_, 0.0f);
  phase_next_.assign(nb_, 0.0f);
  owner_.assign(nb_, -1);
  re_.assign(nb_, 0.0f);
  im_.assign(nb_, 0.0f);
  done_.assign(2 * static_cast<size_t>(nb_), 0);
  order_.assign(2 * static_cast<size_t>(nb_), 0);
  count_.assign(BucketQueue::kBuckets + 1, 0);
  queue_.reset_capacity(3 * static_cast<size_t>(nb_));
  group_.resize(static_cast<size_t>(n_fft) * kFftLanes);
  scratch_.resize(fft_.scratch_bytes() / sizeof(float) + 16);
  acc_.assign(n_fft + hop, 0.0f);
  reset();
}

void StreamingSynth::set_gradients(int prev, int cur, int next) noexcept {
  tgp_ = tgr_[prev].data();
  tgc_ = tgr_[cur].data();
  tgn_ = tgr_[next].data();
  flc_ = flipr_[cur].data();
  fln_ = flipr_[next].data();
}

void StreamingSynth::reset() noexcept {
  std::fill(acc_.begin(), acc_.end(), 0.0f);
  acc_base_ = 0;
  frames_in_ = frames_done_ = samples_out_ = 0;
  pending_ = 0;
  slot_ = 0;
  maxlog_ = -std::numeric_limits<float>::infinity();
}

void StreamingSynth::integrate(int64_t t, const float* s_prev, const float* s_cur,
                               const float* s_next) noexcept {
  // Items: cur bin m -> m, look-ahead bin m -> nb + m, previous bin m -> 2nb + m. The
  // look-ahead frame takes part so that an onset frame can take its phase from the louder
  // frame after it, as the offline heap would; its own phases are provisional and dropped.
  const int nb = nb_;
  const float thresh = maxlog_ - range_;
  int live_cur = 0;
  for (int m = 0; m < nb; ++m) {
    if (s_cur[m] > thresh) {
      done_[m] = 0;
      ++live_cur;
    } else {
      done_[m] = 1;
      phase_cur_[m] = hashed_phase(seed_, t, m);
    }
    done_[nb + m] = (s_next && s_next[m] > thresh) ? 0 : 1;
  }
  if (live_cur == 0) return;
  if (s_next) {
    // No frame after the look-ahead yet: take the level as holding (s[t+2] = s[t+1]) and use
    // the centred form; a plain one-sided difference overstates the slope at onsets.
    freq_gradient(s_cur, s_next, 2.0f, nb, n_fft_, hop_, gamma_, fg_next_.data());
  }
  queue_.clear();
  if (s_prev)
    for (int m = 0; m < nb; ++m)
      if (s_prev[m] > thresh) queue_.push(2 * nb + m, bucket_of(s_prev[m], thresh, inv_range_));
  // Live bins of both frames by descending bucket: seeds for when the queue runs dry.
  constexpr int K = BucketQueue::kBuckets;
  auto level = [&](int item) { return item < nb ? s_cur[item] : s_next[item - nb]; };
  std::fill(count_.begin(), count_.end(), 0);
  for (int i = 0; i < 2 * nb; ++i)
    if (!done_[i]) ++count_[K - 1 - bucket_of(level(i), thresh, inv_range_)];
  for (int b = 0, acc = 0; b <= K; ++b) {
    const int c = count_[b];
    count_[b] = acc;
    acc += c;
  }
  int n_seeds = 0;
  for (int i = 0; i < 2 * nb; ++i)
    if (!done_[i]) {
      order_[count_[K - 1 - bucket_of(level(i), thresh, inv_range_)]++] = i;
      ++n_seeds;
    }

  float* pc = phase_cur_.data();
  float* pn = phase_next_.data();
  int seed_pos = 0, remaining = live_cur;
  auto settle = [&](int item, float phase) {
    if (item < nb) {
      pc[item] = wrap_phase(phase);
      --remaining;
    } else {
      pn[item - nb] = wrap_phase(phase);
    }
    done_[item] = 1;
    queue_.push(item, bucket_of(level(item), thresh, inv_range_));
  };
  while (remaining > 0) {
    if (queue_.empty()) {
      while (seed_pos < n_seeds && done_[order_[seed_pos]]) ++seed_pos;
      const int i = order_[seed_pos];
      settle(i, hashed_phase(seed_, i < nb ? t : t + 1, i < nb ? i : i - nb));
      continue;
    }
    const int32_t item = queue_.pop();
    if (item >= 2 * nb) {  // previous frame: forward in time
      const int m = item - 2 * nb;
      if (!done_[m]) settle(m, phase_prev_[m] + 0.5f * (tgp_[m] + tgc_[m]) + adv_[m]);
    } else if (item < nb) {  // current frame: along frequency, and forward to the look-ahead
      const int m = item;
      const float p = pc[m];
      if (m + 1 < nb && !done_[m + 1])
        settle(m + 1, p + 0.5f * (fg_[m] + fg_[m + 1]) + (flc_[m] ? kPi : 0.0f));
      if (m > 0 && !done_[m - 1])
        settle(m - 1, p - 0.5f * (fg_[m] + fg_[m - 1]) - (flc_[m - 1] ? kPi : 0.0f));
      if (!done_[nb + m]) settle(nb + m, p + 0.5f * (tgc_[m] + tgn_[m]) + adv_[m]);
    } else {  // look-ahead frame: along frequency, and back to the current frame
      const int m = item - nb;
      const float p = pn[m];
      if (m + 1 < nb && !done_[item + 1])
        settle(item + 1, p + 0.5f * (fg_next_[m] + fg_next_[m + 1]) + (fln_[m] ? kPi : 0.0f));
      if (m > 0 && !done_[item - 1])
        settle(item - 1, p - 0.5f * (fg_next_[m] + fg_next_[m - 1]) - (fln_[m - 1] ? kPi : 0.0f));
      if (!done_[m]) settle(m, p - 0.5f * (tgc_[m] + tgn_[m]) - adv_[m]);
    }
  }
}

void StreamingSynth::process_frame(int64_t t, const float* s_prev, const float* s_cur,
                                   const float* s_next, const float* mag_cur) noexcept {
  if (method_ == StreamMethod::Random) {
    for (int m = 0; m < nb_; ++m) phase_cur_[m] = hashed_phase(seed_, t, m);
  } else {
    if (s_prev && s_next)
      freq_gradient(s_prev, s_next, 2.0f, nb_, n_fft_, hop_, gamma_, fg_.data());
    else if (s_next)
      freq_gradient(s_cur, s_next, 2.0f, nb_, n_fft_, hop_, gamma_, fg_.data());
    else if (s_prev)
      freq_gradient(s_prev, s_cur, 2.0f, nb_, n_fft_, hop_, gamma_, fg_.data());
    else
      std::fill(fg_.begin(), fg_.end(), 0.0f);
    integrate(t, s_prev, s_cur, s_next);
  }
  // Spectrum in half-complex order, centred phases shifted to the frame-start convention,
  // into the next lane of the group buffer: up to fft_lanes() frames share one vector
  // inverse FFT (a lone frame uses the same code path, so output never depends on grouping).
  constexpr int L = kFftLanes;
  float* re = re_.data();
  float* im = im_.data();
  for (int m = 0; m < nb_; ++m) {  // straight-line, so it vectorises
    float sn, cs;
    sincos_wrapped(phase_cur_[m], &sn, &cs);
    const float a = (m & 1) ? -mag_cur[m] : mag_cur[m];
    re[m] = a * cs;
    im[m] = a * sn;
  }
  float* g = group_.data() + pending_;
  g[0] = re[0];
  for (int m = 1; m < nb_ - 1; ++m) {
    g[(2 * m - 1) * L] = re[m];
    g[2 * m * L] = im[m];
  }
  g[(n_fft_ - 1) * L] = re[nb_ - 1];
  ++pending_;
  std::swap(phase_prev_, phase_cur_);
}

void StreamingSynth::run_group(float* out, int64_t* written, bool hold_last) noexcept {
  if (pending_ == 0) return;
  constexpr int L = kFftLanes;
  {
    ScratchScope scope(scratch_.data(), scratch_.size() * sizeof(float));
    fft_.inverse_batch(group_.data(), 1.0f / n_fft_);
  }
  const float* g = group_.data();
  for (int l = 0; l < pending_; ++l) {
    // acc_base_ == t * hop here: frames are added in order and emit() advances by hop.
    for (int i = 0; i < n_fft_; ++i) acc_[i] += g[i * L + l] * window_[i];
    ++frames_done_;
    // A frame completes the hop before the next frame's start; the very last frame of a
    // sound is emitted by flush() with the end-of-signal envelope instead.
    if (!(hold_last && l == pending_ - 1)) emit(frames_done_ * hop_, out, written);
  }
  pending_ = 0;
}

void StreamingSynth::emit(int64_t upto, float* out, int64_t* written) noexcept {
  const int64_t pad = n_fft_ / 2;
  const int64_t F = frames_done_;
  // Only the end of the whole signal (flush) may stop short of a full window sum.
  const int64_t end = n_fft_ + hop_ * (F - 1);
  const bool final_tail = upto >= end;
  // The whole overlap-add support is returned: hop*(F-1) + n_fft/2 samples in all, so a
  // caller that knows the original length can cut it there without losing the last hop.
  const int64_t limit = upto;
  if (!final_tail && acc_base_ >= n_fft_ - 1 && acc_base_ >= pad && acc_base_ % hop_ == 0 &&
      upto - acc_base_ <= hop_) {
    // Steady state: one hop of fully overlapped samples, a straight vectorisable loop.
    const int64_t len = upto - acc_base_;
    float* o = out + *written;
    const float* a = acc_.data();
    const float* inv = inv_env_.data();
    for (int64_t k = 0; k < len; ++k) o[k] = a[k] * inv[k];
    *written += len;
  } else {
    emit_slow(upto, final_tail, limit, out, written);
  }
  const int64_t shift = std::min<int64_t>(upto - acc_base_, static_cast<int64_t>(acc_.size()));
  std::memmove(acc_.data(), acc_.data() + shift, sizeof(float) * (acc_.size() - shift));
  std::fill(acc_.end() - shift, acc_.end(), 0.0f);
  acc_base_ = upto;
}

void StreamingSynth::emit_slow(int64_t upto, bool final_tail, int64_t limit, float* out,
                               int64_t* written) noexcept {
  const int64_t pad = n_fft_ / 2;
  const int64_t F = frames_done_;
  for (int64_t j = acc_base_; j < upto; ++j) {
    float v = acc_[j - acc_base_];
    if (j < n_fft_ - 1 || (final_tail && j > hop_ * (F - 1))) {
      int64_t t_lo = std::max<int64_t>(0, (j - n_fft_ + hop_) / hop_);
      if (j - t_lo * hop_ >= n_fft_) ++t_lo;
      const int64_t t_hi = std::min<int64_t>(F - 1, j / hop_);
      float e = 0.0f;
      for (int64_t tt = t_lo; tt <= t_hi; ++tt) {
        const float w = window_[j - tt * hop_];
        e += w * w;
      }
      v = v / std::max(e, env_floor_);
    } else {
      v *= inv_env_[j % hop_];
    }
    if (j >= pad && j < limit) out[(*written)++] = v;
  }
}

Status StreamingSynth::push(const float* mag, int64_t n_frames, int64_t bin_stride,
                            int64_t frame_stride, float* out, int64_t capacity,
                            int64_t* written) noexcept {
  if (written) *written = 0;
  if (!written || n_frames < 0 || (n_frames > 0 && (!out || !mag))) return Status::InvalidArgument;
  if (n_frames == 0) return Status::Ok;
  if (capacity < max_push_output(n_frames)) return Status::BufferTooSmall;
  for (int64_t t = 0; t < n_frames; ++t) {  // branch-free per frame, so it vectorises
    const float* f = mag + t * frame_stride;
    int nonfinite = 0, negative = 0;
    for (int m = 0; m < nb_; ++m) {
      const float v = f[m * bin_stride];
      nonfinite |= static_cast<int>(!(std::fabs(v) <= std::numeric_limits<float>::max()));
      negative |= static_cast<int>(v < 0.0f);
    }
    if (nonfinite) return Status::NonFinite;
    if (negative) return Status::NegativeMagnitude;
  }
  for (int64_t t = 0; t < n_frames; ++t) {
    slot_ = (slot_ + 1) % 3;
    float* s = s_[slot_].data();
    float* mg = mag_[slot_].data();
    for (int m = 0; m < nb_; ++m) {
      mg[m] = mag[m * bin_stride + t * frame_stride];
      s[m] = fast_log(std::max(mg[m], 1e-30f));
      maxlog_ = std::max(maxlog_, s[m]);
    }
    if (method_ == StreamMethod::Rtpghi) {
      // Each frame's time gradient and side-lobe locking, once, when it arrives (threshold as
      // of then); the frame then serves as look-ahead, current and previous frame in turn.
      time_gradient(s, nb_, n_fft_, hop_, gamma_, tgr_[slot_].data());
      peak_lock(s, nb_, n_fft_, hop_, maxlog_ - range_, owner_.data(), flipr_[slot_].data(),
                tgr_[slot_].data());
    }
    ++frames_in_;
    if (method_ == StreamMethod::Random) {
      process_frame(frames_in_ - 1, nullptr, s, nullptr, mg);
    } else if (frames_in_ >= 2) {
      const int64_t tc = frames_in_ - 2;
      const int cur = (slot_ + 2) % 3, prev = (slot_ + 1) % 3;
      set_gradients(prev, cur, slot_);
      process_frame(tc, tc > 0 ? s_[prev].data() : nullptr, s_[cur].data(), s, mag_[cur].data());
    }
    if (pending_ == kFftLanes) run_group(out, written, false);
  }
  run_group(out, written, false);  // everything pushed is heard now, not after 8 frames
  samples_out_ += *written;
  return Status::Ok;
}

Status StreamingSynth::flush(float* out, int64_t capacity, int64_t* written) noexcept {
  if (written) *written = 0;
  if (!written || !out) return Status::InvalidArgument;
  if (capacity < max_flush_output()) return Status::BufferTooSmall;
  if (frames_in_ == 0) return Status::Ok;
  if (method_ == StreamMethod::Rtpghi) {
    const int64_t tc = frames_in_ - 1;
    const int prev = (slot_ + 2) % 3;
    set_gradients(prev, slot_, slot_);
    process_frame(tc, tc > 0 ? s_[prev].data() : nullptr, s_[slot_].data(), nullptr,
                  mag_[slot_].data());
    run_group(out, written, true);
  }
  emit(n_fft_ + hop_ * (frames_done_ - 1), out, written);
  reset();
  return Status::Ok;
}

}  // namespace fk::dsp

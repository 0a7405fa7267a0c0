#include "dsp/streaming_synth.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace fk::dsp {

namespace {
// Energy ratios (sums of squared magnitudes) between frames. A look-ahead frame with at
// least kOnsetRise (+3 dB) the energy of the frame before gets the onset gradient; steady
// sounds stay below (the test noise bed rises by at most 1.6x per hop, the voiced signal by
// 1.2x). Refinement starts only at an attack: kAttackRise (+20 dB) over the frame before
// the current one. The test impacts rise by 1e4x and more there, but the default ambience
// models' frames jitter by up to 250x from hop to hop, and refining most of their frames
// would cost 10-20 us each and, chained over many frames, magnify tiny input differences
// (the engine and Runtime.stream must agree to 2e-5). At +20 dB and at most one attack
// per kRefractory frames, 1-3% of those frames are refined.
constexpr float kOnsetRise = 2.0f;
constexpr float kAttackRise = 100.0f;
constexpr int kRefractory = 8;
// RTISI iterations per refined frame, and how many frames after the rise are refined too.
// On the test impacts 3 and 2 bring streaming from 4.7 dB behind offline PGHI to ahead of
// it; fewer leave it behind, more cost FFTs for little (the frames after the attack carry
// most of the energy whose phase the attack decided).
constexpr int kRefineIters = 3;
constexpr int kRefineAfter = 2;
// Refinement only pays where frames overlap at most 4 times (hop >= n_fft/4). At hop n_fft/8
// a frame and its look-ahead leave most of the window's overlap-add unknown, and on the
// test impact refining costs 4 dB where the onset gradient alone is 1.4 dB ahead of offline.
constexpr int kRefineMaxOverlap = 4;

// Phases for the bins below the integration threshold, whose values only need to be spread
// out and reproducible: hashed per (seed, frame, bin) like hashed_phase, but per bin with
// 32-bit arithmetic only, so the loop vectorises. On a long decaying sound most bins are
// quiet, and hashed_phase's 64-bit multiplies were a tenth of a frame's cost.
void quiet_phases(uint64_t seed, int64_t frame, int n, float* out) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(frame) * 0xBF58476D1CE4E5B9ull +
               0x2545F4914F6CDD1Dull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  const uint32_t key = static_cast<uint32_t>(z ^ (z >> 32));
  for (int m = 0; m < n; ++m) {
    uint32_t x = key ^ (static_cast<uint32_t>(m) * 0x9E3779B9u);
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    out[m] = static_cast<float>(static_cast<int32_t>(x >> 8)) * (kTwoPiF / 16777216.0f) - kPi;
  }
}

// atan2 from fast_atan: |error| < 1e-5, 0 at the origin.
inline float fast_atan2(float y, float x) {
  const float ax = std::fabs(x), ay = std::fabs(y);
  if (ax == 0.0f && ay == 0.0f) return 0.0f;
  float r = fast_atan(ay / ax);  // ax == 0 gives atan(inf) = pi/2
  r = x < 0.0f ? kPi - r : r;
  return std::copysign(r, y);
}
}  // namespace

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
  frame_.resize(n_fft);
  scratch_.resize(fft_.scratch_bytes() / sizeof(float) + 16);
  acc_.assign(n_fft + hop, 0.0f);
  rbuf_.resize(n_fft);
  for (int j = 0; j < 2; ++j) {
    zr_[j].assign(nb_, 0.0f);
    zi_[j].assign(nb_, 0.0f);
  }
  seg_.assign(n_fft + hop, 0.0f);
  inv_ws_.assign(n_fft + hop, 0.0f);
  win2_.resize(n_fft);
  for (int i = 0; i < n_fft; ++i) win2_[i] = window_[i] * window_[i];
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
  slot_ = 0;
  refine_left_ = 0;
  since_refine_ = kRefractory;
  energy_[0] = energy_[1] = energy_[2] = 0.0f;
  maxlog_ = -std::numeric_limits<float>::infinity();
}

void StreamingSynth::integrate(int64_t t, const float* s_prev, const float* s_cur,
                               const float* s_next, bool next_onset, bool whole_next) noexcept {
  // Items: cur bin m -> m, look-ahead bin m -> nb + m, previous bin m -> 2nb + m. The
  // look-ahead frame takes part so that an onset frame can take its phase from the louder
  // frame after it, as the offline heap would; its own phases are provisional and dropped.
  const int nb = nb_;
  const float thresh = maxlog_ - range_;
  // Every bin starts with its quiet phase; the integration overwrites the live ones.
  // whole_next: the onset refinement starts from the look-ahead's phases too, so all of its
  // bins get one (integrated, or the quiet phase), not only those the current frame needed.
  quiet_phases(seed_, t, nb, phase_cur_.data());
  if (whole_next) quiet_phases(seed_, t + 1, nb, phase_next_.data());
  int live = 0;
  uint8_t* done = done_.data();
  for (int m = 0; m < nb; ++m) {  // branch-free, so it vectorises
    const int on = s_cur[m] > thresh;
    done[m] = static_cast<uint8_t>(1 - on);
    live += on;
  }
  if (s_next) {
    int live_next = 0;
    for (int m = 0; m < nb; ++m) {
      const int on = s_next[m] > thresh;
      done[nb + m] = static_cast<uint8_t>(1 - on);
      live_next += on;
    }
    if (whole_next) live += live_next;
  } else {
    std::fill(done + nb, done + 2 * nb, uint8_t(1));
  }
  if (live == 0) return;
  if (next_onset) {
    // The look-ahead frame starts an onset: fit an impulse to its rise over this frame.
    freq_gradient_onset(s_cur, s_next, nb, n_fft_, hop_, fg_next_.data());
  } else if (s_next) {
    // No frame after the look-ahead yet: take the level as holding (s[t+2] = s[t+1]) and use
    // the centred form; a plain one-sided difference overstates the slope at onsets.
    freq_gradient(s_cur, s_next, 2.0f, nb, n_fft_, hop_, gamma_, fg_next_.data());
  }
  queue_.clear();
  if (s_prev)
    for (int m = 0; m < nb; ++m)
      if (s_prev[m] > thresh) queue_.push(2 * nb + m, bucket_of(s_prev[m], thresh, inv_range_));
  constexpr int K = BucketQueue::kBuckets;
  auto level = [&](int item) { return item < nb ? s_cur[item] : s_next[item - nb]; };
  // Unsettled live bins of both frames by descending bucket (ties by index): seeds for when
  // the queue runs dry. Sorted only then: while the previous frame is live the queue rarely
  // does, and the sort is a good part of a steady frame's cost. Bins settled before the sort
  // would have been skipped as seeds anyway, so the seeds are the same either way.
  int n_seeds = -1;
  auto sort_seeds = [&]() {
    std::fill(count_.begin(), count_.end(), 0);
    for (int i = 0; i < 2 * nb; ++i)
      if (!done_[i]) ++count_[K - 1 - bucket_of(level(i), thresh, inv_range_)];
    for (int b = 0, acc = 0; b <= K; ++b) {
      const int c = count_[b];
      count_[b] = acc;
      acc += c;
    }
    n_seeds = 0;
    for (int i = 0; i < 2 * nb; ++i)
      if (!done_[i]) {
        order_[count_[K - 1 - bucket_of(level(i), thresh, inv_range_)]++] = i;
        ++n_seeds;
      }
  };

  float* pc = phase_cur_.data();
  float* pn = phase_next_.data();
  int seed_pos = 0, remaining = live;
  auto settle = [&](int item, float phase) {
    if (item < nb) {
      pc[item] = wrap_phase(phase);
      --remaining;
    } else {
      pn[item - nb] = wrap_phase(phase);
      remaining -= whole_next ? 1 : 0;
    }
    done_[item] = 1;
    queue_.push(item, bucket_of(level(item), thresh, inv_range_));
  };
  while (remaining > 0) {
    if (queue_.empty()) {
      if (n_seeds < 0) sort_seeds();
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
                                   const float* s_next, const float* mag_cur,
                                   const float* mag_next, float e_prev, float e_cur, float e_next,
                                   float* out, int64_t* written, bool hold) noexcept {
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
    // Refine the frames of an attack (this frame or the look-ahead at least kAttackRise over
    // the frame before), for as long as the level keeps rising (kOnsetRise), and the
    // kRefineAfter frames after that. Rises among bins that all lie below the integration
    // threshold (a quiet floor flickering) are not attacks.
    const float louder = std::max(e_cur, e_next);
    const float floor_energy = std::exp(2.0f * (maxlog_ - range_));
    if (since_refine_ < kRefractory) ++since_refine_;
    if (louder > floor_energy && ((refine_left_ > 0 && louder > kOnsetRise * e_prev) ||
                                  (since_refine_ >= kRefractory && louder > kAttackRise * e_prev)))
      refine_left_ = kRefineAfter + 1;
    const bool in_attack = refine_left_ > 0;
    if (in_attack) {
      --refine_left_;
      since_refine_ = 0;
    }
    const bool refine_now = in_attack && n_fft_ <= kRefineMaxOverlap * hop_;
    // Not for the first frame's look-ahead: reflect padding puts a mirror image of the start
    // in frame 0, so a sound that starts at sample 0 does not rise from frame 0 to frame 1
    // the way the impulse model expects (on the default one-shot models it cost up to 3 dB
    // there).
    const bool next_onset = s_prev && s_next && e_next > kOnsetRise * e_cur;
    integrate(t, s_prev, s_cur, s_next, next_onset, refine_now && s_next);
    if (refine_now) refine(t, mag_cur, s_next ? mag_next : nullptr);
  }
  // Spectrum in half-complex order, centred phases shifted to the frame-start convention.
  float* re = re_.data();
  float* im = im_.data();
  for (int m = 0; m < nb_; ++m) {  // straight-line, so it vectorises
    float sn, cs;
    sincos_wrapped(phase_cur_[m], &sn, &cs);
    const float a = (m & 1) ? -mag_cur[m] : mag_cur[m];
    re[m] = a * cs;
    im[m] = a * sn;
  }
  float* g = frame_.data();
  g[0] = re[0];
  for (int m = 1; m < nb_ - 1; ++m) {
    g[2 * m - 1] = re[m];
    g[2 * m] = im[m];
  }
  g[n_fft_ - 1] = re[nb_ - 1];
  std::swap(phase_prev_, phase_cur_);
  // One frame's inverse FFT, at once. (Frames used to wait in groups of fft_lanes() for one
  // vector FFT; but then a caller pushing one frame at a time paid for eight, and the
  // vector and one-frame transforms round differently, so they cannot be mixed without the
  // output depending on how frames are split.)
  {
    ScratchScope scope(scratch_.data(), scratch_.size() * sizeof(float));
    fft_.inverse(g, 1.0f / n_fft_);
  }
  // acc_base_ == t * hop here: frames are added in order and emit() advances by hop.
  for (int i = 0; i < n_fft_; ++i) acc_[i] += g[i] * window_[i];
  ++frames_done_;
  // A frame completes the hop before the next frame's start; the very last frame of a
  // sound is emitted by flush() with the end-of-signal envelope instead.
  if (!hold) emit(frames_done_ * hop_, out, written);
}

void StreamingSynth::refine(int64_t t, const float* mag_cur, const float* mag_next) noexcept {
  // acc_ holds the overlap-add of every frame before t, and acc_[0] is sample t*hop, where
  // frame t starts.
  const int N = n_fft_, H = hop_, nb = nb_, L = N + H;
  const int nf = mag_next ? 2 : 1;
  const float* mags[2] = {mag_cur, mag_next};
  const float* phases[2] = {phase_cur_.data(), phase_next_.data()};
  for (int j = 0; j < nf; ++j)
    for (int m = 0; m < nb; ++m) {
      float sn, cs;
      sincos_wrapped(phases[j][m], &sn, &cs);
      const float a = (m & 1) ? -mags[j][m] : mags[j][m];
      zr_[j][m] = a * cs;
      zi_[j][m] = a * sn;
    }
  // Least-squares overlap-add weights: the window-square sum of the frames present (the
  // committed ones before t, t, and t+1 if known), so that the frames not yet known do not
  // count as silence.
  float* inv_ws = inv_ws_.data();
  std::fill(inv_ws, inv_ws + L, 0.0f);
  for (int64_t f = std::max<int64_t>(0, t - (N - 1) / H); f < t + nf; ++f) {
    const int off = static_cast<int>((f - t) * H);
    for (int n = std::max(0, off); n < std::min(L, off + N); ++n) inv_ws[n] += win2_[n - off];
  }
  for (int n = 0; n < L; ++n) inv_ws[n] = 1.0f / std::max(inv_ws[n], env_floor_);
  float* b = rbuf_.data();
  ScratchScope scope(scratch_.data(), scratch_.size() * sizeof(float));
  for (int it = 0; it < kRefineIters; ++it) {
    std::copy(acc_.begin(), acc_.begin() + L, seg_.begin());
    for (int j = 0; j < nf; ++j) {
      b[0] = zr_[j][0];
      for (int m = 1; m < nb - 1; ++m) {
        b[2 * m - 1] = zr_[j][m];
        b[2 * m] = zi_[j][m];
      }
      b[N - 1] = zr_[j][nb - 1];
      fft_.inverse(b, 1.0f / N);
      float* sg = seg_.data() + j * H;
      for (int i = 0; i < N; ++i) sg[i] += b[i] * window_[i];
    }
    // Re-analyse each frame from the segment and keep its phase, with the given magnitude.
    for (int j = 0; j < nf; ++j) {
      const float* sg = seg_.data() + j * H;
      const float* iw = inv_ws + j * H;
      for (int i = 0; i < N; ++i) b[i] = window_[i] * sg[i] * iw[i];
      fft_.forward(b);
      float* zr = zr_[j].data();
      float* zi = zi_[j].data();
      const float* mg = mags[j];
      zr[0] = b[0] < 0.0f ? -mg[0] : mg[0];
      zr[nb - 1] = b[N - 1] < 0.0f ? -mg[nb - 1] : mg[nb - 1];
      for (int m = 1; m < nb - 1; ++m) {
        const float re = b[2 * m - 1], im = b[2 * m];
        const float r2 = re * re + im * im;
        if (r2 > 0.0f) {
          const float k = mg[m] / std::sqrt(r2);
          zr[m] = re * k;
          zi[m] = im * k;
        }
      }
    }
  }
  // Back to centred phases: the next frame integrates from them.
  for (int m = 0; m < nb; ++m)
    phase_cur_[m] = wrap_phase(fast_atan2(zi_[0][m], zr_[0][m]) + ((m & 1) ? kPi : 0.0f));
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
    for (int m = 0; m < nb_; ++m) mg[m] = mag[m * bin_stride + t * frame_stride];
    for (int m = 0; m < nb_; ++m) s[m] = fast_log(std::max(mg[m], 1e-30f));
    // Maximum and energy in 8 fixed lanes, so the loop vectorises (a float reduction in one
    // accumulator does not) and the energy rounds the same way on every build.
    float part[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    float top[8] = {maxlog_, maxlog_, maxlog_, maxlog_, maxlog_, maxlog_, maxlog_, maxlog_};
    int m8 = 0;
    for (; m8 + 8 <= nb_; m8 += 8)
      for (int k = 0; k < 8; ++k) {
        part[k] += mg[m8 + k] * mg[m8 + k];
        top[k] = top[k] > s[m8 + k] ? top[k] : s[m8 + k];
      }
    for (int m = m8; m < nb_; ++m) {
      part[m - m8] += mg[m] * mg[m];
      top[m - m8] = std::max(top[m - m8], s[m]);
    }
    for (int k = 0; k < 8; ++k) maxlog_ = std::max(maxlog_, top[k]);
    const float energy = ((part[0] + part[1]) + (part[2] + part[3])) +
                         ((part[4] + part[5]) + (part[6] + part[7]));
    if (method_ == StreamMethod::Rtpghi) {
      // Each frame's time gradient and side-lobe locking, once, when it arrives (threshold as
      // of then); the frame then serves as look-ahead, current and previous frame in turn.
      time_gradient(s, nb_, n_fft_, hop_, gamma_, tgr_[slot_].data());
      peak_lock(s, nb_, n_fft_, hop_, maxlog_ - range_, owner_.data(), flipr_[slot_].data(),
                tgr_[slot_].data());
    }
    energy_[slot_] = energy;
    ++frames_in_;
    if (method_ == StreamMethod::Random) {
      process_frame(frames_in_ - 1, nullptr, s, nullptr, mg, nullptr, 0.0f, 0.0f, 0.0f, out,
                    written, false);
    } else if (frames_in_ >= 2) {
      const int64_t tc = frames_in_ - 2;
      const int cur = (slot_ + 2) % 3, prev = (slot_ + 1) % 3;
      set_gradients(prev, cur, slot_);
      process_frame(tc, tc > 0 ? s_[prev].data() : nullptr, s_[cur].data(), s, mag_[cur].data(),
                    mg, tc > 0 ? energy_[prev] : 0.0f, energy_[cur], energy, out, written, false);
    }
  }
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
                  mag_[slot_].data(), nullptr, tc > 0 ? energy_[prev] : 0.0f, energy_[slot_], 0.0f,
                  out, written, true);
  }
  emit(n_fft_ + hop_ * (frames_done_ - 1), out, written);
  reset();
  return Status::Ok;
}

}  // namespace fk::dsp

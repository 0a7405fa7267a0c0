// Real-time spectrogram-to-waveform synthesis, one frame at a time (RTPGHI: Průša &
// Holighaus 2017). Frame t's phase is integrated from frame t-1's phase and frame t's own
// gradients; its frequency gradient uses a centred difference, so the synthesiser waits for
// frame t+1 before it finishes frame t: one frame of look-ahead, hop samples of latency
// beyond the STFT's own. "random" mode gives each bin a hashed random phase and needs no
// look-ahead, for noise beds (rain, wind) where phase coherence is not heard.
//
// Onsets are where one frame of look-ahead falls short of offline PGHI (which integrates an
// attack backwards from the louder frames after it). Two things close that gap: the
// look-ahead frame of an onset takes its frequency-direction gradient from an impulse model
// of the level rise (freq_gradient_onset) instead of assuming its level holds, and the
// frames of an attack (+20 dB in a hop or two) and the two after it get a few RTISI-style
// iterations (Zhu et al. 2007: the frame and its look-ahead are re-analysed from the
// overlap-add of themselves and the committed frames before them, keeping the given
// magnitudes), where frames overlap at most 4 times. Steady frames pay for neither.
//
// Every buffer is sized in the constructor; push/flush/reset never allocate, lock or throw.
// One instance belongs to one thread at a time.
#pragma once
#include <cstdint>
#include <vector>

#include "dsp/error.hpp"
#include "dsp/fft.hpp"
#include "dsp/phase_gradient.hpp"
#include "dsp/stft.hpp"

namespace fk::dsp {

enum class StreamMethod { Rtpghi = 0, Random = 1 };

class StreamingSynth {
 public:
  // Throws fk::Error on bad parameters (construction is not real-time).
  StreamingSynth(int n_fft, int hop, StreamMethod method, uint64_t seed);

  int n_fft() const { return n_fft_; }
  int hop() const { return hop_; }
  int bins() const { return nb_; }
  StreamMethod method() const { return method_; }
  // Frames pushed so far and samples emitted so far.
  int64_t frames_pushed() const { return frames_in_; }
  int64_t samples_out() const { return samples_out_; }
  // Most samples one push of n frames can return (n * hop), and that flush can return.
  int64_t max_push_output(int64_t n_frames) const { return n_frames * hop_; }
  int64_t max_flush_output() const { return n_fft_ + hop_; }

  // mag: n_frames frames of bins() linear magnitudes; element (bin k, frame t) at
  // mag[k * bin_stride + t * frame_stride]. All frames are checked before any is used, so
  // bad input changes nothing. Writes at most max_push_output(n_frames) samples.
  Status push(const float* mag, int64_t n_frames, int64_t bin_stride, int64_t frame_stride,
              float* out, int64_t capacity, int64_t* written) noexcept;
  // Finishes the last frame and returns the tail; the synth is then reset.
  Status flush(float* out, int64_t capacity, int64_t* written) noexcept;
  void reset() noexcept;

 private:
  // e_*: energies (sum of squared magnitudes) of the frames, 0 where there is none. hold:
  // the last frame of a sound, whose samples flush() emits with the end-of-signal envelope.
  void process_frame(int64_t t, const float* s_prev, const float* s_cur, const float* s_next,
                     const float* mag_cur, const float* mag_next, float e_prev, float e_cur,
                     float e_next, float* out, int64_t* written, bool hold) noexcept;
  void refine(int64_t t, const float* mag_cur, const float* mag_next) noexcept;
  void emit(int64_t upto, float* out, int64_t* written) noexcept;
  void emit_slow(int64_t upto, bool final_tail, int64_t limit, float* out, int64_t* written) noexcept;
  void set_gradients(int prev_slot, int cur_slot, int next_slot) noexcept;
  void integrate(int64_t t, const float* s_prev, const float* s_cur, const float* s_next,
                 bool next_onset, bool whole_next) noexcept;

  int n_fft_, hop_, nb_;
  StreamMethod method_;
  uint64_t seed_;
  double gamma_;
  float range_, inv_range_, env_floor_;
  RealFFT fft_;
  std::vector<float> window_, inv_env_, adv_;
  // Per-frame state: log-magnitudes and magnitudes of the pending frame and the two before.
  std::vector<float> s_[3], mag_[3];
  float energy_[3] = {0.0f, 0.0f, 0.0f};
  int slot_ = 0;  // slot of the newest frame
  // Per slot of the frame ring: time-gradient corrections and side-lobe flips.
  std::vector<float> tgr_[3];
  std::vector<uint8_t> flipr_[3];
  const float *tgp_ = nullptr, *tgc_ = nullptr, *tgn_ = nullptr;
  const uint8_t *flc_ = nullptr, *fln_ = nullptr;
  std::vector<float> fg_, phase_prev_, phase_cur_;
  std::vector<float> fg_next_, phase_next_;  // provisional, for the look-ahead frame
  std::vector<uint8_t> done_;
  std::vector<int32_t> owner_;
  std::vector<float> re_, im_;  // one frame's spectrum before it is interleaved
  std::vector<int32_t> order_, count_;
  BucketQueue queue_;
  AlignedFloats frame_, scratch_;  // frame_: one frame's spectrum, then its samples
  // Onset refinement: frames still to refine, one frame's FFT buffer, the spectra (frame-start
  // convention) of the frame and its look-ahead, the overlap-add segment under both, its
  // reciprocal window-square sum, and the window squared.
  int refine_left_ = 0, since_refine_ = 0;
  AlignedFloats rbuf_;
  std::vector<float> zr_[2], zi_[2], seg_, inv_ws_, win2_;
  std::vector<float> acc_;  // overlap-add accumulator; acc_[0] is y_full[acc_base_]
  int64_t acc_base_ = 0;
  int64_t frames_in_ = 0, frames_done_ = 0, samples_out_ = 0;
  float maxlog_;
};

}  // namespace fk::dsp

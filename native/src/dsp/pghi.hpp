// Offline phase-gradient heap integration (PGHI): a non-iterative phase estimate from the
// magnitude alone. The whole spectrogram is integrated from its loudest bins outwards; the
// heap is a bucket queue, so the cost is linear in the number of bins.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dsp/stft.hpp"

namespace fk::dsp {

class PghiWorkspace;

// Called after each block of frames is integrated: phase_tm's frames [0, frames_done) are
// final. A synthesiser uses it to start on the first frames while PGHI goes on.
struct PghiProgress {
  void (*fn)(void* user, int64_t frames_done) = nullptr;
  void* user = nullptr;
};

// The first block is short (its end falls in frames [16, 32), at the quietest frame there),
// so that a caller can play a clip's start about a quarter of the way into the work; later
// blocks are up to 128 frames. The blocks are the same whether or not anyone listens.
constexpr int64_t kPghiFirstBlockFrames = 32;

// mag: bins x n_frames in `lay`, finite and >= 0 (callers validate).
// Writes phases [n_frames, bins] frame-major in the window-centred convention.
void pghi_phase(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t n_frames,
                float tol, uint64_t seed, float* phase_tm);
// The same with caller-owned scratch: no allocation when `ws` was reserved for the plan and
// at least n_frames frames (otherwise it grows first). Results are identical.
void pghi_phase(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t n_frames,
                float tol, uint64_t seed, float* phase_tm, PghiWorkspace& ws,
                PghiProgress progress = {});

// mag with phases (frame-major, centred convention) -> STFT coefficients, frame-major, in
// the frame-start convention of StftPlan::stft.
void apply_phase(const StftPlan& plan, const float* mag, SpecLayout lay, const float* phase_tm,
                 int64_t n_frames, cfloat* S);

// Everything pghi_phase needs besides its input and output: a few MB for long spectrograms,
// which a fresh call would allocate, page-fault in and free each time. Whoever synthesises
// often (the engine's workers, one per thread) keeps one, reserved once for its longest clip.
// Not shared between threads.
class PghiWorkspace {
 public:
  PghiWorkspace() = default;
  // Makes room for n_frames frames of plan's bins; allocates only when that is more than
  // it holds (buffers only grow), or a small table when the plan differs from the last one.
  void reserve(const StftPlan& plan, int64_t n_frames);
  // Whether pghi_phase on n_frames frames of plan runs without allocating.
  bool fits(const StftPlan& plan, int64_t n_frames) const;

 private:
  friend void pghi_phase(const StftPlan&, const float*, SpecLayout, int64_t, float, uint64_t,
                         float*, PghiWorkspace&, PghiProgress);
  int nb_ = 0, n_fft_ = 0, hop_ = 0;  // the plan adv_ belongs to
  std::vector<float> frame_peak_, adv_, logs_;
  std::vector<float> grad_;     // per bin: time gradient, frequency gradient, phase advance
  std::vector<float> phase_;    // per bin, copied to the output per block
  std::vector<int16_t> state_;  // per bin: bucket, side-lobe flip, settled (see pghi.cpp)
  std::vector<float> tg_row_, fg_row_;  // one frame, as the gradient functions write them
  std::vector<uint8_t> flip_row_;
  std::vector<int32_t> owner_, count_, order_;
  std::vector<int32_t> seeds_;
  // The bucket queue: a LIFO list per bucket (all heads -1 whenever the queue is empty).
  std::vector<int32_t> head_, next_;
};

}  // namespace fk::dsp

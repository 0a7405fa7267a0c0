// Offline phase-gradient heap integration (PGHI): a non-iterative phase estimate from the
// magnitude alone. The whole spectrogram is integrated from its loudest bins outwards; the
// heap is a bucket queue, so the cost is linear in the number of bins.
#pragma once
#include <cstdint>
#include <vector>

#include "dsp/stft.hpp"

namespace fk::dsp {

// mag: bins x n_frames in `lay`, finite and >= 0 (callers validate).
// Writes phases [n_frames, bins] frame-major in the window-centred convention.
void pghi_phase(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t n_frames,
                float tol, uint64_t seed, float* phase_tm);

// mag with phases (frame-major, centred convention) -> STFT coefficients, frame-major, in
// the frame-start convention of StftPlan::stft.
void apply_phase(const StftPlan& plan, const float* mag, SpecLayout lay, const float* phase_tm,
                 int64_t n_frames, cfloat* S);

}  // namespace fk::dsp

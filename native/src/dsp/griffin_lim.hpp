// Fast Griffin-Lim (Perraudin, Balazs, Søndergaard 2013) with librosa's momentum form,
// started from random phases or from PGHI. The spectrogram stays in the grouped
// half-complex layout between iterations, so each iteration is one batched inverse and one
// batched forward transform with no reshuffling. An iteration is one pass over the frame
// groups (synthesis, normalisation and analysis through a small window of the signal, no
// whole-signal buffers), and several iterations follow one another through the spectrogram
// while its blocks are in cache; the result is the plain whole-array loop's.
#pragma once
#include <cstdint>
#include <vector>

#include "dsp/stft.hpp"

namespace fk::dsp {

enum class GlInit { Random, Pghi };

// mag: bins x n_frames in `lay`, validated. Writes `length` samples to y.
void griffin_lim(const StftPlan& plan, const float* mag, SpecLayout lay, int64_t n_frames, int n_iter,
                 float momentum, GlInit init, uint64_t seed, float* y, int64_t length);

}  // namespace fk::dsp

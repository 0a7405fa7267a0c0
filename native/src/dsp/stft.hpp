// STFT and inverse STFT: centred frames, reflect padding, periodic Hann, window-sum
// normalised inverse (the conventions of torch.stft/istft with center=True).
//
// Spectrograms are addressed through a SpecLayout, so both orders work without copies:
// stft() writes frame-major (each frame's bins contiguous, what the FFT produces; Python
// exposes it as a [bins, frames] view, as torch does), models and numpy users often hand over
// bin-major [bins, frames] arrays. Internally frames travel in groups of fft_lanes() for SIMD.
#pragma once
#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "dsp/fft.hpp"

namespace fk::dsp {

using cfloat = std::complex<float>;

// Element (bin k, frame t) of a spectrogram lives at data[k * bin + t * frame].
struct SpecLayout {
  int64_t bin;
  int64_t frame;
  static SpecLayout bin_major(int64_t n_frames) { return {n_frames, 1}; }
  static SpecLayout frame_major(int64_t n_bins) { return {1, n_bins}; }
};

// Checks n_fft and hop; throws fk::Error naming the bad one.
void validate_fft_params(int n_fft, int hop);

// Dividing the overlap-add by the window-sum envelope is exact for a consistent spectrogram
// wherever the envelope is not zero (torch.istft divides wherever it exceeds 1e-11). Past the
// last frame's centre it tends to zero, and for a spectrogram a model or a phase method made
// (never quite consistent) that division amplifies the last window's tail a millionfold: a
// click at the end of every sound. Synthesis therefore divides by at least a floor: half the
// envelope at the last sample a signal of 1 + L/hop frames can have, so inside the signal
// nothing changes and past it the tail fades instead of blowing up.
enum class EnvelopeFloor { Exact, Synthesis };

// Frames that stft() makes from n samples: 1 + n / hop.
int64_t stft_frames(int64_t n_samples, int hop);
// Samples that istft() returns when no length is given: hop * (n_frames - 1).
int64_t istft_default_length(int64_t n_frames, int hop);

// Plans and windows for one (n_fft, hop). Immutable, shared between threads.
class StftPlan {
 public:
  StftPlan(int n_fft, int hop);
  int n_fft() const { return n_fft_; }
  int hop() const { return hop_; }
  int bins() const { return n_fft_ / 2 + 1; }
  const RealFFT& fft() const { return fft_; }
  const std::vector<float>& window() const { return window_; }
  // 1 / sum_t w^2[j - t*hop] for j in the interior of a long signal, indexed by j % hop.
  const std::vector<float>& inv_envelope_periodic() const { return inv_env_; }

  // x: n samples (n > n_fft/2 for reflect padding). out: n_frames * bins complex,
  // frame-major (SpecLayout::frame_major(bins())).
  void stft(const float* x, int64_t n, cfloat* out) const;
  // Writes `length` samples (the centred trim of the overlap-add, zero-padded if length is
  // longer than the signal).
  void istft(const cfloat* S, SpecLayout layout, int64_t n_frames, float* y, int64_t length,
             EnvelopeFloor floor = EnvelopeFloor::Exact) const;
  // istft that also checks every value of S (both parts of every bin) for NaN and Inf while it
  // reads them, instead of in a pass of its own. Returns false, y unspecified, if one is there.
  bool istft_checked(const cfloat* S, SpecLayout layout, int64_t n_frames, float* y,
                     int64_t length, EnvelopeFloor floor = EnvelopeFloor::Exact) const;
  float envelope_floor(EnvelopeFloor f) const { return f == EnvelopeFloor::Exact ? 1e-11f : synthesis_floor_; }
  // Whether synthesis (istft, synthesise_group*) runs RealFFT::inverse_batch_packed: with AVX
  // (8 lanes) for n_fft a multiple of 8. Otherwise inverse_batch.
  bool packed_inverse() const { return packed_inverse_; }

  // --- pieces shared with Griffin-Lim (grouped half-complex layout) ---
  // A spectrogram held as groups of lanes frames: group g, half-complex index i, lane l at
  // hc[(g * n_fft + i) * lanes + l].
  int64_t groups(int64_t n_frames) const;
  // Griffin-Lim's building blocks, one group of fft_lanes() frames at a time so that the
  // caller can fuse its per-bin work with the transforms (no whole-spectrogram buffers).
  // Frame t of a full-length signal y_full (n_fft + hop*(F-1) samples) starts at t*hop.
  // analyse_group: window and forward-transform group g of y_full into work (n_fft*lanes).
  void analyse_group(const float* y_full, int64_t n_frames, int64_t g, float* work) const;
  // The same over a signal of n samples (frames reaching past it read it reflected).
  void analyse_group(const float* x, int64_t n, int64_t n_frames, int64_t g, float* work) const;
  // synthesise_group: inverse-transform work (group g's spectrum, destroyed) and overlap-add
  // it, windowed, into y_full (which the caller zeroed).
  void synthesise_group(float* work, int64_t n_frames, int64_t g, float* y_full) const;
  // The same on windows of the signals, for a caller that streams through them (Griffin-Lim
  // keeps only a few groups' worth of samples in cache instead of whole-signal buffers).
  // analyse_group_at: x holds samples [x0, x0 + n) of the signal; group g's frames start at or
  // after x0, and those reaching past x0 + n read it reflected about its last sample.
  void analyse_group_at(const float* x, int64_t n, int64_t x0, int64_t n_frames, int64_t g,
                        float* work) const;
  // synthesise_group_at: y holds y_full from sample y0 on, far enough for group g's frames.
  void synthesise_group_at(float* work, int64_t n_frames, int64_t g, float* y, int64_t y0) const;
  // Divide y_full by the window-sum envelope (zero where the envelope vanishes).
  void normalise_envelope(float* y_full, int64_t n_frames,
                          EnvelopeFloor floor = EnvelopeFloor::Exact) const;
  // The same for samples [from, from + count) of y_full, written to out[0..count) (which may
  // be y_full + from).
  void normalise_into(const float* y_full, int64_t n_frames, EnvelopeFloor floor, int64_t from,
                      int64_t count, float* out) const;
  // The window-sum envelope where normalise_* cannot take it from the periodic table (the
  // first n_fft - 1 samples of y_full and those past hop * (n_frames - 1)), for a caller
  // that normalises signals of the same n_frames again and again.
  struct EdgeEnvelope {
    int64_t n_frames = 0;
    std::vector<double> head;  // samples [0, head.size())
    int64_t tail_from = 0;
    std::vector<double> tail;  // samples [tail_from, tail_from + tail.size())
  };
  EdgeEnvelope edge_envelope(int64_t n_frames) const;
  // The same with the input held in its own buffer: in[0..count) are samples
  // [from, from + count) of y_full (in may equal out). `edges`, from edge_envelope(n_frames),
  // saves recomputing the envelope at the ends; the result is the same without it.
  void normalise_span(const float* in, int64_t n_frames, EnvelopeFloor floor, int64_t from,
                      int64_t count, float* out, const EdgeEnvelope* edges = nullptr) const;

 private:
  int n_fft_, hop_;
  RealFFT fft_;
  std::vector<float> window_;
  std::vector<float> inv_env_;
  float synthesis_floor_;
  bool packed_inverse_ = false;
  double envelope_at(int64_t j, int64_t n_frames) const;  // sum of w^2 over frames at sample j
  // The same, from tables for the first n_fft - 1 samples and the n_fft past the last frame's
  // start, once there are edge_table_frames_ frames or more: the ends then see the same frames
  // in the same order whatever the length, so the sums are the same bit for bit.
  double envelope_edge(int64_t j, int64_t n_frames) const;
  std::vector<double> head_env_, tail_env_;
  int64_t edge_table_frames_ = 0;
};

// Process-wide cache: one plan per (n_fft, hop). Creation is locked; use is lock-free.
std::shared_ptr<const StftPlan> get_stft_plan(int n_fft, int hop);

}  // namespace fk::dsp

// The C++ DSP core against plain references: the SIMD batch FFT against the single-frame one
// (STYLE.md: reference kernel first, SIMD checked against it), STFT round trips, the mel
// filterbank's shape, determinism of synthesis, and the error statuses the C ABI relies on.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "check.h"
#include "dsp/error.hpp"
#include "dsp/fft.hpp"
#include "dsp/mel.hpp"
#include "dsp/stft.hpp"
#include "dsp/streaming_synth.hpp"
#include "dsp/synthesis.hpp"

using fk::Status;
namespace dsp = fk::dsp;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Deterministic noise in [-1, 1): tests must not depend on the platform's rand().
struct Lcg {
  uint64_t s;
  float next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int64_t>(s >> 40) - (1 << 23)) / float(1 << 23);
  }
};

// Largest |a - b| relative to the largest |b|: elementwise relative error is meaningless
// for the near-zero bins of a transform.
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// The status of the fk::Error that f throws; Ok if it throws nothing, Internal for anything
// that is not an fk::Error (the C ABI would report those as FK_RESULT_INTERNAL).
Status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const fk::Error& e) {
    return e.status();
  } catch (...) {
    return Status::Internal;
  }
  return Status::Ok;
}

void test_batch_fft_matches_single() {
  const int L = dsp::fft_lanes();
  CHECK(L == 1 || L == 4 || L == 8);
  for (int n : {1024, 512, 2048, 1000, 30}) {
    dsp::RealFFT fft(n);
    CHECK_EQ(fft.size(), n);
    Lcg rng{static_cast<uint64_t>(n)};
    // Room for more lanes than fft_lanes() says, filled with a sentinel: if the library was
    // compiled with another lane count than this file sees (the count depends on -mavx), it
    // would write past n*L floats. Detect that instead of corrupting the heap.
    constexpr int kRoomLanes = 16;
    const size_t used = static_cast<size_t>(n) * L, room = static_cast<size_t>(n) * kRoomLanes;
    dsp::AlignedFloats batch(room);
    CHECK(reinterpret_cast<uintptr_t>(batch.data()) % 64 == 0);
    for (size_t i = used; i < room; ++i) batch[i] = 777.0f;
    std::vector<std::vector<float>> lanes(L, std::vector<float>(n));
    for (int l = 0; l < L; ++l)
      for (int i = 0; i < n; ++i) batch[static_cast<size_t>(i) * L + l] = lanes[l][i] = rng.next();

    fft.forward_batch(batch.data());
    bool in_bounds = true;
    for (size_t i = used; i < room; ++i) in_bounds = in_bounds && batch[i] == 777.0f;
    if (!in_bounds) {
      std::fprintf(stderr, "forward_batch n=%d wrote past n*fft_lanes() = %zu floats: the "
                           "library's lane count differs from fft_lanes() here (%d)\n", n, used, L);
      CHECK(in_bounds);
      continue;
    }
    for (int l = 0; l < L; ++l) {
      std::vector<float> ref = lanes[l], got(n);
      fft.forward(ref.data());
      for (int i = 0; i < n; ++i) got[i] = batch[static_cast<size_t>(i) * L + l];
      const double e = rel_err(got, ref);
      if (e > 1e-5) std::fprintf(stderr, "forward_batch n=%d lane %d: rel err %g\n", n, l, e);
      CHECK(e <= 1e-5);
      lanes[l] = ref;  // spectra, the input of the inverse check below
    }

    const float scale = 1.0f / n;
    fft.inverse_batch(batch.data(), scale);
    for (int l = 0; l < L; ++l) {
      std::vector<float> ref = lanes[l], got(n);
      fft.inverse(ref.data(), scale);
      for (int i = 0; i < n; ++i) got[i] = batch[static_cast<size_t>(i) * L + l];
      const double e = rel_err(got, ref);
      if (e > 1e-5) std::fprintf(stderr, "inverse_batch n=%d lane %d: rel err %g\n", n, l, e);
      CHECK(e <= 1e-5);
    }
  }
  // The single-frame reference itself: forward then inverse with 1/n is the identity.
  {
    const int n = 1000;
    dsp::RealFFT fft(n);
    Lcg rng{3};
    std::vector<float> x(n), y;
    for (float& v : x) v = rng.next();
    y = x;
    fft.forward(y.data());
    fft.inverse(y.data(), 1.0f / n);
    CHECK(rel_err(y, x) <= 1e-5);
  }
}

// The packed inverse (half-size complex transforms) against the single-frame real inverse, in
// both input orders, for powers of two, other multiples of 4 (pocketfft's other radices and
// Bluestein for n/4 = 53) and the smallest sizes, where k = n/4 pairs with itself.
void test_packed_inverse_matches_single() {
  const int L = dsp::fft_lanes();
  for (int n : {1024, 2048, 512, 64, 1000, 48, 212, 12, 8, 4}) {
    dsp::RealFFT fft(n);
    CHECK(fft.packed());
    Lcg rng{static_cast<uint64_t>(n) + 17};
    std::vector<std::vector<float>> spec(L, std::vector<float>(n));  // FFTPACK order
    for (auto& s : spec)
      for (float& v : s) v = rng.next();
    for (const bool fftpack : {false, true}) {
      dsp::AlignedFloats batch(static_cast<size_t>(n) * L);
      for (int l = 0; l < L; ++l) {
        const std::vector<float>& s = spec[l];
        for (int r = 0; r < n; ++r) {
          // packed: re X0, re X(n/2), re X1, im X1, ...; FFTPACK: re X0, re X1, im X1, ..., re X(n/2)
          const float v = fftpack ? s[r] : r == 0 ? s[0] : r == 1 ? s[n - 1] : s[r - 1];
          batch[static_cast<size_t>(r) * L + l] = v;
        }
      }
      const float scale = 1.0f / n;
      fft.inverse_batch_packed(batch.data(), scale, fftpack);
      for (int l = 0; l < L; ++l) {
        std::vector<float> ref = spec[l], got(n);
        fft.inverse(ref.data(), scale);
        for (int j = 0; j < n; ++j) got[j] = batch[static_cast<size_t>(fft.packed_row(j)) * L + l];
        const double e = rel_err(got, ref);
        if (e > 1e-5)
          std::fprintf(stderr, "inverse_batch_packed n=%d fftpack=%d lane %d: rel err %g\n", n,
                       int(fftpack), l, e);
        CHECK(e <= 1e-5);
      }
    }
  }
  CHECK(!dsp::RealFFT(30).packed());
}

void test_stft_roundtrip() {
  struct Case { int n_fft, hop; int64_t n; };
  const Case cases[] = {{1024, 256, 48000}, {1024, 256, 48001}, {1024, 256, 1000},
                        {1024, 256, 513},   {512, 128, 4097},   {1000, 250, 7001},
                        {1024, 512, 5000}};
  for (const Case& c : cases) {
    dsp::StftPlan plan(c.n_fft, c.hop);
    CHECK_EQ(plan.bins(), c.n_fft / 2 + 1);
    Lcg rng{static_cast<uint64_t>(c.n)};
    std::vector<float> x(c.n), y(c.n, 99.0f);
    for (float& v : x) v = rng.next();
    const int64_t F = dsp::stft_frames(c.n, c.hop);
    CHECK_EQ(F, 1 + c.n / c.hop);
    std::vector<dsp::cfloat> S(static_cast<size_t>(plan.bins()) * F);
    plan.stft(x.data(), c.n, S.data());  // frame-major
    plan.istft(S.data(), dsp::SpecLayout::frame_major(plan.bins()), F, y.data(), c.n);
    double err = 0.0;
    for (int64_t i = 0; i < c.n; ++i) err = std::max(err, std::fabs(double(y[i]) - x[i]));
    if (err > 1e-5)
      std::fprintf(stderr, "stft round trip n_fft=%d hop=%d n=%lld: max err %g\n", c.n_fft, c.hop,
                   static_cast<long long>(c.n), err);
    CHECK(err <= 1e-5);
    // The same spectrogram bin-major must give the same samples: a layout is only strides.
    std::vector<dsp::cfloat> Sb(S.size());
    for (int64_t t = 0; t < F; ++t)
      for (int k = 0; k < plan.bins(); ++k) Sb[k * F + t] = S[t * plan.bins() + k];
    std::vector<float> yb(c.n);
    plan.istft(Sb.data(), dsp::SpecLayout::bin_major(F), F, yb.data(), c.n);
    CHECK(yb == y);
  }
  // Reflect padding needs more than n_fft/2 samples; shorter input is an argument error.
  dsp::StftPlan plan(1024, 256);
  std::vector<float> x(512, 0.0f);
  std::vector<dsp::cfloat> S(static_cast<size_t>(plan.bins()) * 3);
  CHECK(status_of([&] { plan.stft(x.data(), 512, S.data()); }) == Status::InvalidArgument);
}

// istft's gathers (frame-major 8x8 transposes, bin-major splits, any strides) and overlap-adds
// (whole and partial groups, the window sliding between groups) against a plain per-frame
// reference, for every partial-group size and for output lengths that stop early or run past
// the signal. istft_checked gives the same bits and finds a NaN or Inf wherever it is, also in
// the imaginary parts of the DC and Nyquist bins, which the inverse never reads otherwise.
void test_istft_paths() {
  struct Case { int n_fft, hop; };
  for (const Case c : {Case{64, 16}, Case{1024, 256}, Case{48, 20}, Case{1000, 250}, Case{36, 9}}) {
    dsp::StftPlan plan(c.n_fft, c.hop);
    dsp::RealFFT fft(c.n_fft);
    const int nb = plan.bins(), n = c.n_fft;
    const std::vector<float>& w = plan.window();
    for (int64_t F = 1; F <= 26; F += (c.n_fft > 64 ? 5 : 1)) {
      Lcg rng{static_cast<uint64_t>(F * 131 + n)};
      const int64_t gap = 3;  // frame-major with room between frames
      std::vector<dsp::cfloat> fm(static_cast<size_t>((nb + gap) * F)), bm(static_cast<size_t>(nb * F)),
          st(static_cast<size_t>(2 * nb * F));
      for (int64_t t = 0; t < F; ++t)
        for (int k = 0; k < nb; ++k) {
          const dsp::cfloat v(0.1f * rng.next(), 0.1f * rng.next());
          fm[t * (nb + gap) + k] = v;
          bm[k * F + t] = v;
          st[k * 2 * F + 2 * t] = v;
        }
      const dsp::SpecLayout lay_fm{1, nb + gap}, lay_bm = dsp::SpecLayout::bin_major(F),
                            lay_st{2 * F, 2};
      // Reference: one frame at a time, in double where it sums.
      const int64_t total = n + int64_t(c.hop) * (F - 1);
      std::vector<double> acc(static_cast<size_t>(total), 0.0), env(static_cast<size_t>(total), 0.0);
      std::vector<float> frame(n);
      for (int64_t t = 0; t < F; ++t) {
        const dsp::cfloat* col = &bm[t];
        frame[0] = col[0].real();
        for (int k = 1; k < nb - 1; ++k) {
          frame[2 * k - 1] = col[k * F].real();
          frame[2 * k] = col[k * F].imag();
        }
        frame[n - 1] = col[(nb - 1) * F].real();
        fft.inverse(frame.data(), 1.0f / n);
        for (int i = 0; i < n; ++i) {
          acc[t * c.hop + i] += double(frame[i]) * w[i];
          env[t * c.hop + i] += double(w[i]) * w[i];
        }
      }
      const int64_t full = dsp::istft_default_length(F, c.hop);
      for (const int64_t length : {full, full / 3, total + 50, int64_t(0)}) {
        std::vector<float> y_fm(length), y_bm(length), y_st(length), y_ck(length);
        plan.istft(fm.data(), lay_fm, F, y_fm.data(), length);
        plan.istft(bm.data(), lay_bm, F, y_bm.data(), length);
        plan.istft(st.data(), lay_st, F, y_st.data(), length);
        CHECK(y_fm == y_bm);
        CHECK(y_fm == y_st);
        for (const auto& [S, lay] : {std::pair{fm.data(), lay_fm}, std::pair{bm.data(), lay_bm},
                                     std::pair{st.data(), lay_st}}) {
          std::fill(y_ck.begin(), y_ck.end(), 7.0f);
          CHECK(plan.istft_checked(S, lay, F, y_ck.data(), length));
          CHECK(y_ck == y_fm);
        }
        double err = 0.0;
        for (int64_t i = 0; i < length; ++i) {
          const int64_t j = i + n / 2;
          if (j >= total || env[j] <= 1e-11) {  // nothing there: exactly zero
            err = std::max(err, std::fabs(double(y_fm[i])));
            continue;
          }
          // Where the envelope is small the division magnifies rounding: compare the sums.
          err = std::max(err, std::fabs(acc[j] / env[j] - y_fm[i]) * std::min(1.0, env[j]));
        }
        if (err > 1e-6)
          std::fprintf(stderr, "istft n_fft=%d hop=%d F=%lld length=%lld: max err %g\n", n, c.hop,
                       static_cast<long long>(F), static_cast<long long>(length), err);
        CHECK(err <= 1e-6);
      }
      // One NaN or Inf, in either part, anywhere: every layout's check finds it.
      std::vector<float> y(static_cast<size_t>(full));
      for (const float bad : {std::nanf(""), INFINITY, -INFINITY})
        for (const int k : {0, 1, nb / 2, nb - 2, nb - 1})
          for (const int64_t t : {int64_t(0), F / 2, F - 1})
            for (const bool imag : {false, true}) {
              auto poke = [&](dsp::cfloat& v) {
                const dsp::cfloat old = v;
                v = imag ? dsp::cfloat(old.real(), bad) : dsp::cfloat(bad, old.imag());
                return old;
              };
              dsp::cfloat& a = fm[t * (nb + gap) + k];
              dsp::cfloat& b = bm[k * F + t];
              dsp::cfloat& d = st[k * 2 * F + 2 * t];
              const dsp::cfloat keep = poke(a);
              poke(b);
              poke(d);
              CHECK(!plan.istft_checked(fm.data(), lay_fm, F, y.data(), full));
              CHECK(!plan.istft_checked(bm.data(), lay_bm, F, y.data(), full));
              CHECK(!plan.istft_checked(st.data(), lay_st, F, y.data(), full));
              a = b = d = keep;
            }
      // A NaN in the gap between frames is not part of the spectrogram.
      if (F > 1) {
        fm[nb + 1] = dsp::cfloat(std::nanf(""), 0.0f);
        CHECK(plan.istft_checked(fm.data(), lay_fm, F, y.data(), full));
      }
    }
  }
}

void test_stft_peak_at_bin() {
  const int n_fft = 1024, hop = 256, k0 = 37;
  const int64_t n = 8192;
  dsp::StftPlan plan(n_fft, hop);
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::cos(2 * kPi * k0 * i / n_fft));
  const int64_t F = dsp::stft_frames(n, hop);
  const int nb = plan.bins();
  std::vector<dsp::cfloat> S(static_cast<size_t>(nb) * F);
  plan.stft(x.data(), n, S.data());  // frame-major: S[t * bins + k]
  int wrong_peak = 0, wrong_level = 0;
  for (int64_t t = 0; t < F; ++t) {
    int best = 0;
    for (int k = 1; k < nb; ++k)
      if (std::abs(S[t * nb + k]) > std::abs(S[t * nb + best])) best = k;
    if (best != k0) ++wrong_peak;
    // A unit cosine under a periodic Hann window peaks at n_fft/4. Only frames clear of the
    // end: reflect padding there is not the continuation of the cosine.
    if (t * hop + n_fft / 2 <= n && std::fabs(std::abs(S[t * nb + k0]) - n_fft / 4.0) > 1e-3 * n_fft)
      ++wrong_level;
  }
  CHECK_EQ(wrong_peak, 0);
  CHECK_EQ(wrong_level, 0);
}

double slaney_hz_to_mel(double f) {
  return f >= 1000.0 ? 15.0 + std::log(f / 1000.0) / (std::log(6.4) / 27.0) : f / (200.0 / 3.0);
}
double slaney_mel_to_hz(double m) {
  return m >= 15.0 ? 1000.0 * std::exp((std::log(6.4) / 27.0) * (m - 15.0)) : m * (200.0 / 3.0);
}

void test_mel_filterbank() {
  struct Case { double sr; int n_fft, n_mels; double fmin, fmax; };
  const Case cases[] = {{48000, 1024, 80, 0, 24000}, {22050, 2048, 40, 100, 8000},
                        {16000, 512, 64, 0, 8000}};
  for (const Case& c : cases) {
    const int nb = c.n_fft / 2 + 1;
    const double df = c.sr / c.n_fft;
    const std::vector<float> fb = dsp::mel_filterbank(c.sr, c.n_fft, c.n_mels, c.fmin, c.fmax);
    CHECK_EQ(fb.size(), static_cast<size_t>(c.n_mels) * nb);
    const double lo = slaney_hz_to_mel(c.fmin), hi = slaney_hz_to_mel(c.fmax);
    int negative = 0, empty = 0, misplaced = 0, not_triangle = 0, outside = 0;
    for (int i = 0; i < c.n_mels; ++i) {
      const float* row = fb.data() + static_cast<size_t>(i) * nb;
      const double left = slaney_mel_to_hz(lo + i * (hi - lo) / (c.n_mels + 1));
      const double centre = slaney_mel_to_hz(lo + (i + 1) * (hi - lo) / (c.n_mels + 1));
      const double right = slaney_mel_to_hz(lo + (i + 2) * (hi - lo) / (c.n_mels + 1));
      int peak = 0;
      for (int k = 0; k < nb; ++k) {
        if (row[k] < 0.0f) ++negative;
        if (row[k] > row[peak]) peak = k;
      }
      // Weight only inside the triangle (so nothing below fmin or above fmax). A bin exactly
      // on an edge may keep a rounding residue (2.5e-18 at Nyquist when fmax = sr/2; librosa
      // computes it the same way), hence the relative threshold.
      for (int k = 0; k < nb; ++k)
        if (row[k] > 1e-6f * row[peak] && !(k * df > left && k * df < right)) ++outside;
      if (!(row[peak] > 0.0f)) {
        ++empty;
        continue;
      }
      // The peak is one of the two bins around the centre frequency.
      if (std::fabs(peak * df - centre) >= df) ++misplaced;
      // One rise, one fall: rising up to the peak, falling after it.
      for (int k = 1; k <= peak; ++k) not_triangle += row[k] < row[k - 1];
      for (int k = peak + 1; k < nb; ++k) not_triangle += row[k] > row[k - 1];
    }
    CHECK_EQ(negative, 0);
    CHECK_EQ(empty, 0);
    CHECK_EQ(misplaced, 0);
    CHECK_EQ(not_triangle, 0);
    CHECK_EQ(outside, 0);
  }
  CHECK(status_of([] { dsp::mel_filterbank(48000, 1024, 0, 0, 0); }) == Status::InvalidArgument);
  CHECK(status_of([] { dsp::mel_filterbank(48000, 1024, 80, 0, 30000); }) == Status::InvalidArgument);
  CHECK(status_of([] { dsp::mel_filterbank(NAN, 1024, 80, 0, 0); }) == Status::InvalidArgument);

  // The per-frame inverse (streaming) is the column of the whole-spectrogram inverse.
  const std::vector<float> fb = dsp::mel_filterbank(48000, 1024, 80, 0, 24000);
  dsp::MelInverse inv(fb.data(), 80, 513);
  const int F = 5;
  Lcg rng{9};
  std::vector<float> mel(80 * F), lin(513 * F), col(80), lin1(513);
  for (float& v : mel) v = std::fabs(rng.next());
  inv.apply(mel.data(), F, lin.data());
  int mismatched = 0;
  for (int t = 0; t < F; ++t) {
    for (int m = 0; m < 80; ++m) col[m] = mel[m * F + t];
    inv.apply_frame(col.data(), lin1.data());
    for (int k = 0; k < 513; ++k)
      mismatched += std::fabs(lin1[k] - lin[k * F + t]) > 1e-5f * (1.0f + std::fabs(lin1[k]));
  }
  CHECK_EQ(mismatched, 0);
}

// A linear magnitude spectrogram [bins, frames] with two partials and a click.
std::vector<float> test_magnitudes(int bins, int frames) {
  std::vector<float> mag(static_cast<size_t>(bins) * frames);
  for (int k = 0; k < bins; ++k)
    for (int t = 0; t < frames; ++t) {
      double v = 1e-3 + 50.0 * std::exp(-0.8 * (k - 30.4) * (k - 30.4)) +
                 20.0 * std::exp(-0.8 * (k - 91.0) * (k - 91.0));
      if (t >= 10) v += 10.0 * std::exp(-(t - 10) / 2.0) / (1.0 + k / 100.0);
      mag[static_cast<size_t>(k) * frames + t] = static_cast<float>(v);
    }
  return mag;
}

void test_synthesizer() {
  const dsp::FeatureSettings fs;
  const dsp::Synthesizer a(fs), b(fs);
  const int bins = a.plan().bins(), F = 40;
  const std::vector<float> mag = test_magnitudes(bins, F);
  // The same data frame-major, as the C ABI passes it.
  std::vector<float> mag_tm(mag.size());
  for (int k = 0; k < bins; ++k)
    for (int t = 0; t < F; ++t) mag_tm[static_cast<size_t>(t) * bins + k] = mag[static_cast<size_t>(k) * F + t];

  for (auto m : {dsp::PhaseMethod::Pghi, dsp::PhaseMethod::GriffinLim,
                 dsp::PhaseMethod::PghiGriffinLim, dsp::PhaseMethod::Random}) {
    for (uint64_t seed : {0ull, 5ull}) {
      auto run = [&](const dsp::Synthesizer& s, const float* p, int64_t rs, int64_t fst) {
        return s.synthesize(p, bins, F, rs, fst, dsp::SpecKind::LinearMagnitude, m, 6, seed);
      };
      const std::vector<float> y1 = run(a, mag.data(), F, 1), y2 = run(a, mag.data(), F, 1),
                               y3 = run(b, mag.data(), F, 1), y4 = run(a, mag_tm.data(), 1, bins);
      CHECK_EQ(y1.size(), static_cast<size_t>(fs.hop) * (F - 1));
      CHECK(y1 == y2);  // bit for bit: vector== compares exact floats
      CHECK(y1 == y3);
      CHECK(y1 == y4);  // the layout is only a stride, never a different computation
      CHECK(std::all_of(y1.begin(), y1.end(), [](float v) { return std::isfinite(v); }));
    }
  }
  // An explicit length pads or trims the same signal.
  const std::vector<float> full = a.synthesize(mag.data(), bins, F, F, 1, dsp::SpecKind::LinearMagnitude,
                                               dsp::PhaseMethod::Pghi, 0, 0);
  const std::vector<float> longer = a.synthesize(mag.data(), bins, F, F, 1, dsp::SpecKind::LinearMagnitude,
                                                 dsp::PhaseMethod::Pghi, 0, 0, full.size() + 100);
  CHECK_EQ(longer.size(), full.size() + 100);
  CHECK(std::equal(full.begin(), full.end(), longer.begin()));
}

void test_synthesizer_errors() {
  const dsp::FeatureSettings fs;
  const dsp::Synthesizer s(fs);
  const int bins = s.plan().bins(), F = 8;
  std::vector<float> mag = test_magnitudes(bins, F);
  auto linear = [&](const std::vector<float>& m, int64_t rows, int64_t frames) {
    return status_of([&] {
      s.synthesize(m.data(), rows, frames, frames, 1, dsp::SpecKind::LinearMagnitude,
                   dsp::PhaseMethod::Pghi, 0, 0);
    });
  };
  CHECK(linear(mag, bins, F) == Status::Ok);
  std::vector<float> bad = mag;
  bad[static_cast<size_t>(bins - 1) * F + F - 1] = NAN;  // the very last value is checked too
  CHECK(linear(bad, bins, F) == Status::NonFinite);
  bad[static_cast<size_t>(bins - 1) * F + F - 1] = INFINITY;
  CHECK(linear(bad, bins, F) == Status::NonFinite);
  bad[static_cast<size_t>(bins - 1) * F + F - 1] = -1e-6f;
  CHECK(linear(bad, bins, F) == Status::NegativeMagnitude);
  CHECK(linear(mag, bins - 1, F) == Status::ShapeMismatch);
  CHECK(linear(mag, bins, 0) == Status::Empty);
  CHECK(status_of([&] {
          s.synthesize(mag.data(), bins, F, F, 1, dsp::SpecKind::LinearMagnitude,
                       dsp::PhaseMethod::GriffinLim, -1, 0);
        }) == Status::InvalidArgument);
  // Log-mel: negatives are normal, NaN is not.
  std::vector<float> lm(static_cast<size_t>(fs.n_mels) * F, -3.0f);
  auto logmel = [&] {
    return status_of([&] {
      s.synthesize(lm.data(), fs.n_mels, F, F, 1, dsp::SpecKind::LogMel, dsp::PhaseMethod::Pghi, 0, 0);
    });
  };
  CHECK(logmel() == Status::Ok);
  lm[17] = NAN;
  CHECK(logmel() == Status::NonFinite);
  CHECK(status_of([&] {
          s.synthesize(mag.data(), bins, F, F, 1, dsp::SpecKind::MelMagnitude, dsp::PhaseMethod::Pghi, 0, 0);
        }) == Status::ShapeMismatch);
}

void test_validate_fft_params() {
  auto st = [](int n_fft, int hop) { return status_of([=] { dsp::validate_fft_params(n_fft, hop); }); };
  CHECK(st(1024, 256) == Status::Ok);
  CHECK(st(16, 8) == Status::Ok);
  CHECK(st(1000, 1) == Status::Ok);
  CHECK(st(65536, 32768) == Status::Ok);
  CHECK(st(0, 1) == Status::InvalidArgument);
  CHECK(st(8, 4) == Status::InvalidArgument);
  CHECK(st(1023, 256) == Status::InvalidArgument);
  CHECK(st(1 << 20, 256) == Status::InvalidArgument);
  CHECK(st(-1024, 256) == Status::InvalidArgument);
  CHECK(st(1024, 0) == Status::InvalidArgument);
  CHECK(st(1024, -1) == Status::InvalidArgument);
  CHECK(st(1024, 513) == Status::InvalidArgument);
  // The constructors that take these parameters apply the same rule.
  CHECK(status_of([] { dsp::StreamingSynth s(1024, 513, dsp::StreamMethod::Rtpghi, 0); }) ==
        Status::InvalidArgument);
  CHECK(status_of([] { dsp::get_stft_plan(1023, 256); }) == Status::InvalidArgument);
}

}  // namespace

int main() {
  test_batch_fft_matches_single();
  test_packed_inverse_matches_single();
  test_stft_roundtrip();
  test_istft_paths();
  test_stft_peak_at_bin();
  test_mel_filterbank();
  test_synthesizer();
  test_synthesizer_errors();
  test_validate_fft_params();
  return fk_check_summary("test_dsp_core");
}

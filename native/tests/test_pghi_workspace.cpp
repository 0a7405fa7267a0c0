// The one-shot fast path against the allocating one: pghi_phase with a reused PghiWorkspace,
// Synthesizer::synthesize_into with a reused SynthWorkspace, and the fused phase + iSTFT give
// the same bits as the plain calls (pghi_synthesize still composes apply_phase and
// StftPlan::istft), over lengths of 1, 7, 128 frames and past one PGHI block; the register-
// blocked mel inverse equals its one-frame reference; and once reserved, the synthesis path
// the engine's workers run makes no heap allocation.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "check.h"
#include "dsp/mel.hpp"
#include "dsp/phase_gradient.hpp"
#include "dsp/pghi.hpp"
#include "dsp/stft.hpp"
#include "dsp/synthesis.hpp"

// FK_NO_COUNT: leave malloc alone (for sanitizer builds, which replace it themselves).
#if defined(__linux__) && defined(__GLIBC__) && !defined(FK_NO_COUNT)
#include "alloc_counter.h"
#endif

namespace dsp = fk::dsp;

namespace {

struct Lcg {
  uint64_t s;
  float next() {  // [0, 1)
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(s >> 40) / float(1 << 24);
  }
};

// A magnitude spectrogram [bins, F] bin-major with what makes PGHI branch: gliding partials
// (peak locking, side lobes), a noise floor, onsets, and near-silent frames (block seams, quiet
// bins under the threshold).
std::vector<float> test_magnitude(int nb, int64_t F, uint64_t seed) {
  Lcg r{seed};
  std::vector<float> mag(static_cast<size_t>(nb) * F);
  for (int64_t t = 0; t < F; ++t) {
    const bool silent = (t % 53) > 45;  // a quiet stretch every 53 frames
    const float env = silent ? 1e-7f : std::exp(-0.02f * float(t % 53)) * (1.0f + r.next());
    for (int k = 0; k < nb; ++k) {
      float v = 1e-4f * r.next();  // noise floor
      for (int p = 1; p <= 4; ++p) {
        const float f0 = 20.0f * p + 0.3f * float(t) * p;
        const float d = (float(k) - f0);
        v += env / float(p) * std::exp(-0.5f * d * d / 1.7f);
      }
      if (k > nb / 2 && (t % 17) == 3) v += env * 0.05f * r.next();  // a click's broadband burst
      mag[static_cast<size_t>(k) * F + t] = silent ? v * 1e-6f : v;
    }
  }
  return mag;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

const int64_t kLengths[] = {300, 1, 7, 128, 129, 64};  // largest first, then reuse smaller

void test_pghi_workspace() {
  auto plan = dsp::get_stft_plan(1024, 256);
  const int nb = plan->bins();
  dsp::PghiWorkspace ws;  // one for every length: stale contents must not matter
  for (int64_t F : kLengths) {
    const std::vector<float> mag = test_magnitude(nb, F, 7 + uint64_t(F));
    std::vector<float> ref(static_cast<size_t>(nb) * F), got(ref.size(), -99.0f);
    dsp::pghi_phase(*plan, mag.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 3,
                    ref.data());
    dsp::pghi_phase(*plan, mag.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 3,
                    got.data(), ws);
    CHECK(same_bits(ref, got));
    CHECK(ws.fits(*plan, F));
    // Frame-major input takes the other frame-peak loop: same phases.
    std::vector<float> fm(mag.size());
    for (int k = 0; k < nb; ++k)
      for (int64_t t = 0; t < F; ++t) fm[t * nb + k] = mag[static_cast<size_t>(k) * F + t];
    std::fill(got.begin(), got.end(), -99.0f);
    dsp::pghi_phase(*plan, fm.data(), dsp::SpecLayout::frame_major(nb), F, dsp::kPghiTolerance, 3,
                    got.data(), ws);
    CHECK(same_bits(ref, got));
    bool wrapped = true;
    for (float p : ref) wrapped &= p >= -3.1416f && p < 3.1416f;
    CHECK(wrapped);
  }
  // Another plan through the same workspace (it re-sizes).
  auto small = dsp::get_stft_plan(256, 64);
  const int64_t F = 40;
  const std::vector<float> mag = test_magnitude(small->bins(), F, 11);
  std::vector<float> ref(static_cast<size_t>(small->bins()) * F), got(ref.size());
  dsp::pghi_phase(*small, mag.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 5, ref.data());
  dsp::pghi_phase(*small, mag.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 5, got.data(), ws);
  CHECK(same_bits(ref, got));
}

// log(mel @ mag) as the models produce it, [n_mels, F] bin-major.
std::vector<float> log_mel_of(const std::vector<float>& fb, int n_mels, int nb,
                              const std::vector<float>& mag, int64_t F) {
  std::vector<float> out(static_cast<size_t>(n_mels) * F);
  for (int m = 0; m < n_mels; ++m)
    for (int64_t t = 0; t < F; ++t) {
      float acc = 0.0f;
      for (int k = 0; k < nb; ++k) acc += fb[static_cast<size_t>(m) * nb + k] * mag[static_cast<size_t>(k) * F + t];
      out[static_cast<size_t>(m) * F + t] = std::log(std::max(acc, 1e-5f));
    }
  return out;
}

void test_synthesize_into() {
  dsp::FeatureSettings s;
  dsp::Synthesizer syn(s);
  const int nb = syn.plan().bins(), M = s.n_mels;
  dsp::SynthWorkspace ws;
  for (int64_t F : kLengths) {
    const std::vector<float> mag = test_magnitude(nb, F, 100 + uint64_t(F));
    const int64_t len = F * s.hop;
    // Linear input, PGHI: the fused phase + iSTFT equals apply_phase + StftPlan::istft.
    const std::vector<float> legacy =
        dsp::pghi_synthesize(syn.plan(), mag.data(), dsp::SpecLayout::bin_major(F), F, len, 9);
    const std::vector<float> whole = syn.synthesize(mag.data(), nb, F, F, 1, dsp::SpecKind::LinearMagnitude,
                                                    dsp::PhaseMethod::Pghi, 0, 9, len);
    CHECK(same_bits(legacy, whole));
    std::vector<float> into(static_cast<size_t>(len), -99.0f);
    syn.synthesize_into(mag.data(), nb, F, F, 1, dsp::SpecKind::LinearMagnitude, dsp::PhaseMethod::Pghi,
                        0, 9, len, into.data(), ws);
    CHECK(same_bits(whole, into));

    // Log-mel input, frame-major as the engine hands it over, both phase methods the
    // workers render allocation-free, and a length past the signal (zero tail).
    const std::vector<float> lm = log_mel_of(syn.mel_basis(), M, nb, mag, F);
    std::vector<float> lm_fm(lm.size());
    for (int m = 0; m < M; ++m)
      for (int64_t t = 0; t < F; ++t) lm_fm[t * M + m] = lm[static_cast<size_t>(m) * F + t];
    for (dsp::PhaseMethod method : {dsp::PhaseMethod::Pghi, dsp::PhaseMethod::Random}) {
      for (int64_t length : {len, len + 3000, int64_t(-1)}) {
        const std::vector<float> a = syn.synthesize(lm_fm.data(), M, F, 1, M, dsp::SpecKind::LogMel,
                                                    method, 0, 4, length);
        const std::vector<float> b = syn.synthesize(lm.data(), M, F, F, 1, dsp::SpecKind::LogMel,
                                                    method, 0, 4, length);
        CHECK(same_bits(a, b));
        std::vector<float> c(a.size() + 1, -99.0f);
        syn.synthesize_into(lm_fm.data(), M, F, 1, M, dsp::SpecKind::LogMel, method, 0, 4, length,
                            c.data(), ws);
        CHECK(c.back() == -99.0f);  // writes exactly the length
        c.pop_back();
        CHECK(same_bits(a, c));
      }
    }
  }
  // Another model's settings through the same workspace, then back: same samples.
  dsp::FeatureSettings s2;
  s2.n_fft = 512;
  s2.hop = 128;
  s2.n_mels = 64;
  dsp::Synthesizer syn2(s2);
  for (const dsp::Synthesizer* sy : {&syn2, &syn, &syn2}) {
    const int nb2 = sy->plan().bins(), M2 = sy->settings().n_mels;
    const int64_t F = 150;
    const std::vector<float> mag = test_magnitude(nb2, F, 77);
    const std::vector<float> lm = log_mel_of(sy->mel_basis(), M2, nb2, mag, F);
    const std::vector<float> a = sy->synthesize(lm.data(), M2, F, F, 1, dsp::SpecKind::LogMel,
                                                dsp::PhaseMethod::Pghi, 0, 8, -1);
    std::vector<float> b(a.size());
    sy->synthesize_into(lm.data(), M2, F, F, 1, dsp::SpecKind::LogMel, dsp::PhaseMethod::Pghi, 0, 8,
                        -1, b.data(), ws);
    CHECK(same_bits(a, b));
  }
  // Bad input still gets the synthesizer's errors, not a crash.
  std::vector<float> out(1024);
  bool threw = false;
  try {
    syn.synthesize_into(nullptr, M, 4, 1, M, dsp::SpecKind::LogMel, dsp::PhaseMethod::Pghi, 0, 0, 1024,
                        out.data(), ws);
  } catch (const fk::Error&) {
    threw = true;
  }
  CHECK(threw);
}

// The blocked kernel covers whole 4-bin x 16-frame tiles and leaves the edges to the plain
// loop; a frame's result must not depend on which one computed it (one frame at a time is
// all plain loop).
void test_mel_inverse_blocked() {
  dsp::FeatureSettings s;
  dsp::Synthesizer syn(s);
  const int nb = syn.plan().bins(), M = s.n_mels;
  dsp::MelInverse inv(syn.mel_basis().data(), M, nb);
  for (int64_t F : {int64_t(15), int64_t(16), int64_t(17), int64_t(128), int64_t(131)}) {
    Lcg r{uint64_t(F)};
    std::vector<float> mel(static_cast<size_t>(M) * F);
    for (float& v : mel) v = std::exp(8.0f * r.next() - 6.0f);
    std::vector<float> lin(static_cast<size_t>(nb) * F), ref(lin.size()), col(M), out(nb);
    inv.apply(mel.data(), F, lin.data());
    for (int64_t t = 0; t < F; ++t) {
      for (int m = 0; m < M; ++m) col[m] = mel[static_cast<size_t>(m) * F + t];
      inv.apply(col.data(), 1, out.data());
      for (int k = 0; k < nb; ++k) ref[static_cast<size_t>(k) * F + t] = out[k];
      // The streaming path's one-frame form (mel-major, vectorised) gives the same bits.
      std::vector<float> one(nb);
      inv.apply_frame(col.data(), one.data());
      CHECK(same_bits(one, out));
    }
    CHECK(same_bits(ref, lin));
    bool clamped = true;
    for (float v : lin) clamped &= v >= 0.0f;
    CHECK(clamped);
  }
}

void test_no_allocation() {
#ifdef FK_COUNT_ALLOCS
  dsp::FeatureSettings s;
  dsp::Synthesizer syn(s);
  const int nb = syn.plan().bins(), M = s.n_mels;
  const int64_t kMax = 128;
  dsp::SynthWorkspace ws;
  ws.reserve(syn, kMax);
  CHECK(ws.fits(syn, kMax));
  CHECK(!ws.fits(syn, kMax + 1));
  const std::vector<float> mag = test_magnitude(nb, kMax, 1);
  const std::vector<float> lm = log_mel_of(syn.mel_basis(), M, nb, mag, kMax);
  std::vector<float> out(static_cast<size_t>(kMax) * s.hop);
  // Warm-up outside the count: the FFT plan cache and thread-locals of the first call.
  syn.synthesize_into(lm.data(), M, kMax, kMax, 1, dsp::SpecKind::LogMel, dsp::PhaseMethod::Pghi, 0, 1,
                      int64_t(out.size()), out.data(), ws);
  long allocs = 0, frees = 0, total = 0;
  for (int64_t F : {kMax, int64_t(7), int64_t(1), int64_t(100)}) {
    for (dsp::PhaseMethod method : {dsp::PhaseMethod::Pghi, dsp::PhaseMethod::Random}) {
      begin_count();
      syn.synthesize_into(lm.data(), M, F, kMax, 1, dsp::SpecKind::LogMel, method, 0, 2, F * s.hop,
                          out.data(), ws);
      end_count(&allocs, &frees);
      total += allocs + frees;
    }
  }
  CHECK_EQ(total, 0);
  // Multi-block PGHI with a reserved workspace.
  auto plan = dsp::get_stft_plan(1024, 256);
  const int64_t F = 300;
  const std::vector<float> big = test_magnitude(nb, F, 2);
  std::vector<float> P(static_cast<size_t>(nb) * F);
  dsp::PghiWorkspace pws;
  pws.reserve(*plan, F);
  begin_count();
  dsp::pghi_phase(*plan, big.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 1, P.data(), pws);
  end_count(&allocs, &frees);
  CHECK_EQ(allocs + frees, 0);
  // The counter works here (so the zeros above mean something).
  begin_count();
  dsp::pghi_phase(*plan, big.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 1, P.data());
  end_count(&allocs, &frees);
  CHECK(allocs > 0);
#else
  printf("allocation counting needs glibc: skipped\n");
#endif
}

}  // namespace

// A clip made in two parts (the engine plays the first while its worker makes the rest):
// PGHI reports its blocks (the first ends in frames [17, 32]), synthesize_into reports once
// that out[0, k) are final, those samples do not change afterwards, and the whole clip has
// the same bits as without the report. Clips too short to split are not reported.
void test_progressive_synthesis() {
  dsp::FeatureSettings s;
  dsp::Synthesizer syn(s);
  const int nb = syn.plan().bins(), M = s.n_mels;
  dsp::SynthWorkspace ws;
  dsp::PghiWorkspace pws;
  for (int64_t F : {int64_t(7), int64_t(20), int64_t(33), int64_t(64), int64_t(128), int64_t(300)}) {
    const std::vector<float> mag = test_magnitude(nb, F, 500 + uint64_t(F));
    // PGHI's blocks.
    std::vector<int64_t> done;
    dsp::PghiProgress pp;
    pp.user = &done;
    pp.fn = [](void* u, int64_t f) { static_cast<std::vector<int64_t>*>(u)->push_back(f); };
    std::vector<float> P1(static_cast<size_t>(F) * nb), P2(P1.size());
    dsp::pghi_phase(syn.plan(), mag.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 3,
                    P1.data(), pws, pp);
    dsp::pghi_phase(syn.plan(), mag.data(), dsp::SpecLayout::bin_major(F), F, dsp::kPghiTolerance, 3,
                    P2.data(), pws);
    CHECK(same_bits(P1, P2));
    CHECK(!done.empty() && done.back() == F);
    for (size_t i = 1; i < done.size(); ++i) CHECK(done[i] > done[i - 1]);
    if (F > dsp::kPghiFirstBlockFrames) CHECK(done[0] >= 17 && done[0] <= dsp::kPghiFirstBlockFrames);

    // The synthesizer's early report, from log-mel as the engine's workers give it.
    const std::vector<float> lm = log_mel_of(syn.mel_basis(), M, nb, mag, F);
    const int64_t len = F * s.hop;
    struct Seen {
      std::vector<float>* out;
      std::vector<float> early;
      int calls = 0;
    };
    std::vector<float> out(static_cast<size_t>(len), -99.0f);
    Seen seen{&out, {}, 0};
    dsp::SynthProgress progress;
    progress.user = &seen;
    progress.fn = [](void* u, int64_t k) {
      Seen& e = *static_cast<Seen*>(u);
      ++e.calls;
      e.early.assign(e.out->begin(), e.out->begin() + k);
    };
    syn.synthesize_into(lm.data(), M, F, F, 1, dsp::SpecKind::LogMel, dsp::PhaseMethod::Pghi, 0, 5,
                        len, out.data(), ws, progress);
    const std::vector<float> plain = syn.synthesize(lm.data(), M, F, F, 1, dsp::SpecKind::LogMel,
                                                    dsp::PhaseMethod::Pghi, 0, 5, len);
    CHECK(same_bits(out, plain));
    CHECK(seen.calls <= 1);
    if (seen.calls == 1) {
      CHECK(int64_t(seen.early.size()) < len);
      CHECK(same_bits(seen.early, std::vector<float>(plain.begin(), plain.begin() + int64_t(seen.early.size()))));
    }
    // Past the first block: at least two whole groups of 8 frames, 2 * 8 * hop - n_fft / 2
    // samples or more. Under one group: nothing to report.
    if (F > dsp::kPghiFirstBlockFrames)
      CHECK(seen.calls == 1 && int64_t(seen.early.size()) >= 2 * 8 * s.hop - s.n_fft / 2);
    if (F < 8) CHECK(seen.calls == 0);
    // Other phase methods do not report.
    seen.calls = 0;
    syn.synthesize_into(lm.data(), M, F, F, 1, dsp::SpecKind::LogMel, dsp::PhaseMethod::Random, 0, 5,
                        len, out.data(), ws, progress);
    CHECK(seen.calls == 0);
  }
}

int main() {
  test_pghi_workspace();
  test_synthesize_into();
  test_progressive_synthesis();
  test_mel_inverse_blocked();
  test_no_allocation();
  return fk_check_summary("test_pghi_workspace");
}

// Proves the real-time path never reaches the heap: every allocation function of the process
// is replaced by a counting wrapper, and pushes/flushes/resets must leave the count at zero.
//
// One source, two executables (see CMakeLists.txt):
//  - FK_NO_ALLOC_C_ABI: fk_stream_* through the shared library, as an engine calls it.
//    libfoleykit.so reaches malloc/operator new through the PLT, so these wrappers see its
//    allocations too; that is verified before it is relied on.
//  - FK_NO_ALLOC_CORE: fk::dsp::StreamingSynth from the static core, plus the FFT scratch
//    arena's fallback counter. Kept apart from the C ABI binary on purpose: the shared library
//    currently exports the core's C++ symbols, so linking both would let the executable's
//    copy interpose the library's and blur what each check measures.
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "check.h"

#if defined(__linux__) && defined(__GLIBC__)
#include "alloc_counter.h"

namespace {

std::vector<float>* volatile g_sink;  // keeps the probe allocation from being optimised out

// A counter that silently counts nothing would make every zero below meaningless.
void check_counter_works() {
  long allocs = 0, frees = 0;
  begin_count();
  g_sink = new std::vector<float>(10);
  delete g_sink;
  end_count(&allocs, &frees);
  CHECK(allocs >= 2);  // the vector object and its buffer
  CHECK(frees >= 2);
}

// Frame-major test frames: a moving peak over a floor, as magnitudes (log or linear).
std::vector<float> make_frames(int rows, int frames, bool log_values) {
  std::vector<float> f(static_cast<size_t>(rows) * frames);
  for (int t = 0; t < frames; ++t)
    for (int r = 0; r < rows; ++r) {
      const double c = rows * (0.2 + 0.1 * std::sin(0.3 * t));
      const double v = 2.0 * std::exp(-(r - c) * (r - c) / 20.0) + 0.01 * (1 + (r * 7 + t) % 5);
      f[static_cast<size_t>(t) * rows + r] = static_cast<float>(log_values ? std::log(v) : v);
    }
  return f;
}

constexpr int kFrames = 40;

}  // namespace

#ifdef FK_NO_ALLOC_C_ABI
#include <foleykit/foleykit.h>

namespace {

void check_library_is_counted() {
  // Allocations made inside libfoleykit.so must land in the counter, or the zeros below
  // would say nothing about the library.
  long allocs = 0, frees = 0;
  fk_stream_config c = fk_stream_config_default();
  fk_stream* st = nullptr;
  begin_count();
  const fk_result r = fk_stream_create(&c, &st);
  fk_stream_destroy(st);
  end_count(&allocs, &frees);
  CHECK_EQ(r, FK_RESULT_OK);
  CHECK(allocs > 0);
  CHECK(frees > 0);
}

void check_stream(fk_spec_kind kind, fk_stream_method method) {
  fk_stream_config c = fk_stream_config_default();
  c.input = kind;
  c.method = method;
  c.seed = 11;
  fk_stream* st = nullptr;
  CHECK_EQ(fk_stream_create(&c, &st), FK_RESULT_OK);
  if (!st) return;
  const int rows = fk_stream_frame_rows(st);
  const int hop = c.spectrogram.hop;
  const std::vector<float> frames = make_frames(rows, kFrames, kind == FK_SPEC_KIND_LOG_MEL);
  std::vector<float> bad(frames.begin(), frames.begin() + 4 * rows);
  bad[2 * rows + 1] = NAN;
  std::vector<float> out(static_cast<size_t>(kFrames) * hop + c.spectrogram.n_fft + hop);
  const int32_t cap = static_cast<int32_t>(out.size());

  // Results recorded inside the counted region, checked after it.
  int bad_results = 0, wrong_codes = 0;
  long total_written = 0;
  long allocs = 0, frees = 0;
  begin_count();
  for (int round = 0; round < 3; ++round) {
    const int chunk = 1 + 2 * round;  // 1, 3, 5
    int32_t w = 0;
    for (int t = 0; t < kFrames; t += chunk) {
      const int n = t + chunk <= kFrames ? chunk : kFrames - t;
      if (fk_stream_push(st, frames.data() + static_cast<size_t>(t) * rows, n, out.data(), cap,
                         &w) != FK_RESULT_OK)
        ++bad_results;
      total_written += w;
      if (t == 8) {  // the error paths belong to the real-time path too
        if (fk_stream_push(st, bad.data(), 4, out.data(), cap, &w) != FK_RESULT_NON_FINITE)
          ++wrong_codes;
        if (fk_stream_push(st, frames.data(), 2, out.data(), hop, &w) != FK_RESULT_BUFFER_TOO_SMALL)
          ++wrong_codes;
        if (fk_stream_push(st, frames.data(), 0, out.data(), cap, &w) != FK_RESULT_OK)
          ++wrong_codes;
      }
    }
    if (fk_stream_flush(st, out.data(), cap, &w) != FK_RESULT_OK) ++bad_results;
    total_written += w;
    // A sound abandoned halfway, then reset.
    if (fk_stream_push(st, frames.data(), 5, out.data(), cap, &w) != FK_RESULT_OK) ++bad_results;
    fk_stream_reset(st);
  }
  end_count(&allocs, &frees);
  fk_stream_destroy(st);

  std::printf("  C ABI stream input=%d method=%d: %ld allocations, %ld frees\n",
              static_cast<int>(kind), static_cast<int>(method), allocs, frees);
  CHECK_EQ(bad_results, 0);
  CHECK_EQ(wrong_codes, 0);
  CHECK(total_written >= 3L * hop * (kFrames - 1));  // the work really happened
  CHECK_EQ(allocs, 0);
  CHECK_EQ(frees, 0);
}

// Model inference after load: fk_model_generate and fk_model_stream_* allocate nothing,
// success or (validation) failure alike.
void check_model(const std::string& path) {
  fk_model* m = nullptr;
  if (fk_model_load(path.c_str(), &m) != FK_RESULT_OK) {
    std::printf("  cannot load %s: %s\n", path.c_str(), fk_last_error());
    CHECK(false);
    return;
  }
  fk_model_info info;
  CHECK_EQ(fk_model_get_info(m, &info), FK_RESULT_OK);
  fk_model_session* s = nullptr;
  CHECK_EQ(fk_model_session_create(m, &s), FK_RESULT_OK);
  std::vector<float> values(static_cast<size_t>(info.control_count));
  CHECK_EQ(fk_model_default_controls(m, values.data(), info.control_count), FK_RESULT_OK);
  std::vector<float> bad = values;
  int cont = -1;  // a continuous control, to push out of range
  for (int i = 0; i < info.control_count; ++i) {
    fk_control_info ci;
    fk_model_get_control(m, i, &ci);
    if (!ci.categorical) { cont = i; bad[static_cast<size_t>(i)] = ci.high * 2 + 1; break; }
  }
  const int n_mels = info.spectrogram.n_mels;
  const int cap = info.mode == FK_MODEL_MODE_ONE_SHOT ? info.max_frames : 8;
  std::vector<float> mel(static_cast<size_t>(cap) * n_mels);
  int bad_results = 0, wrong_codes = 0;
  long frames_total = 0, allocs = 0, frees = 0;
  if (info.mode == FK_MODEL_MODE_STEP &&
      fk_model_stream_reset(s, values.data(), info.control_count, 3) != FK_RESULT_OK)
    ++bad_results;
  begin_count();
  for (int round = 0; round < 5; ++round) {
    if (info.mode == FK_MODEL_MODE_ONE_SHOT) {
      int32_t frames = 0;
      if (fk_model_generate(s, values.data(), info.control_count, 100 + round, mel.data(), cap,
                            &frames) != FK_RESULT_OK)
        ++bad_results;
      frames_total += frames;
      if (cont >= 0 && fk_model_generate(s, bad.data(), info.control_count, 1, mel.data(), cap,
                                         &frames) != FK_RESULT_INVALID_ARGUMENT)
        ++wrong_codes;
    } else {
      if (fk_model_stream_next(s, mel.data(), cap) != FK_RESULT_OK) ++bad_results;
      frames_total += cap;
      if (fk_model_stream_set_controls(s, values.data(), info.control_count) != FK_RESULT_OK)
        ++bad_results;
    }
  }
  end_count(&allocs, &frees);
  std::printf("  model %s: %ld frames, %ld allocations, %ld frees\n", path.c_str(), frames_total,
              allocs, frees);
  CHECK_EQ(bad_results, 0);
  CHECK_EQ(wrong_codes, 0);
  CHECK(frames_total >= 5);
  CHECK_EQ(allocs, 0);
  CHECK_EQ(frees, 0);
  fk_model_session_destroy(s);
  fk_model_destroy(m);
}

}  // namespace

int main(int argc, char** argv) {
  check_counter_works();
  check_library_is_counted();
  for (fk_spec_kind kind : {FK_SPEC_KIND_LOG_MEL, FK_SPEC_KIND_MEL, FK_SPEC_KIND_LINEAR})
    for (fk_stream_method m : {FK_STREAM_METHOD_RTPGHI, FK_STREAM_METHOD_RANDOM})
      check_stream(kind, m);
  // argv[1..]: model files (.fkm) whose inference must not allocate either.
  for (int i = 1; i < argc; ++i) check_model(argv[i]);
  return fk_check_summary("test_stream_no_alloc");
}
#endif  // FK_NO_ALLOC_C_ABI

#ifdef FK_NO_ALLOC_CORE
#include "dsp/fft.hpp"
#include "dsp/streaming_synth.hpp"

namespace {

void check_core(fk::dsp::StreamMethod method, int n_fft, int hop) {
  using fk::Status;
  fk::dsp::StreamingSynth synth(n_fft, hop, method, 5);
  const int bins = synth.bins();
  // Frequency-major this time (bin stride kFrames, frame stride 1), the layout Python passes.
  const std::vector<float> fm = make_frames(bins, kFrames, false);
  std::vector<float> mag(fm.size());
  for (int t = 0; t < kFrames; ++t)
    for (int k = 0; k < bins; ++k) mag[static_cast<size_t>(k) * kFrames + t] = fm[static_cast<size_t>(t) * bins + k];
  std::vector<float> bad(mag);
  bad[static_cast<size_t>(bins / 2) * kFrames + 3] = -1.0f;
  std::vector<float> out(static_cast<size_t>(kFrames) * hop + synth.max_flush_output());
  const int64_t cap = static_cast<int64_t>(out.size());
  const uint64_t fallbacks_before = fk::dsp::fft_scratch_fallbacks();

  int bad_results = 0;
  int64_t total = 0;
  long allocs = 0, frees = 0;
  begin_count();
  for (int round = 0; round < 3; ++round) {
    int64_t w = 0;
    for (int t = 0; t < kFrames; t += 4) {
      const int n = t + 4 <= kFrames ? 4 : kFrames - t;
      if (synth.push(mag.data() + t, n, kFrames, 1, out.data(), cap, &w) != Status::Ok) ++bad_results;
      total += w;
      if (t == 12 && synth.push(bad.data(), kFrames, kFrames, 1, out.data(), cap, &w) !=
                         Status::NegativeMagnitude)
        ++bad_results;
    }
    if (synth.flush(out.data(), cap, &w) != Status::Ok) ++bad_results;
    total += w;
    if (synth.push(mag.data(), 3, kFrames, 1, out.data(), cap, &w) != Status::Ok) ++bad_results;
    synth.reset();
  }
  end_count(&allocs, &frees);

  std::printf("  StreamingSynth n_fft=%d hop=%d method=%d: %ld allocations, %ld frees\n", n_fft,
              hop, static_cast<int>(method), allocs, frees);
  CHECK_EQ(bad_results, 0);
  CHECK(total >= 3L * hop * (kFrames - 1));  // the work really happened
  CHECK_EQ(allocs, 0);
  CHECK_EQ(frees, 0);
  // The arena must be large enough for every transform (a fallback would also be an allocation).
  CHECK_EQ(fk::dsp::fft_scratch_fallbacks(), fallbacks_before);
}

}  // namespace

int main() {
  check_counter_works();
  for (auto m : {fk::dsp::StreamMethod::Rtpghi, fk::dsp::StreamMethod::Random}) {
    check_core(m, 1024, 256);
    check_core(m, 2048, 512);
    check_core(m, 1000, 250);  // not a power of two: a different pocketfft code path
    check_core(m, 1030, 256);  // 1030 = 2 * 5 * 103: a large prime factor (Bluestein-sized scratch)
  }
  CHECK_EQ(fk::dsp::fft_scratch_fallbacks(), 0);
  return fk_check_summary("test_stream_no_alloc_core");
}
#endif  // FK_NO_ALLOC_CORE

#else  // not glibc

int main() {
  std::printf("test_stream_no_alloc: skipped (allocation counting needs glibc on Linux)\n");
  return 77;  // ctest SKIP_RETURN_CODE
}
#endif

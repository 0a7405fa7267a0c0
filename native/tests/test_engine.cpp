// The engine through its C ABI (fk_engine_*), on the shipped default models (argv[1]: the
// folder with oneshots.fkm and ambiences.fkm). Every wait is on a condition the engine
// reports (fk_engine_sync, stats, events), never on elapsed time; timeouts only turn a hang
// into a failure.
#include <foleykit/foleykit.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "check.h"

namespace {

std::string g_dir;
fk_model* g_oneshot = nullptr;
fk_model* g_ambience = nullptr;

constexpr int32_t kSyncMs = 20000;  // a hang guard, not a timing assertion

bool contains(const char* text, const char* part) { return text && std::strstr(text, part) != nullptr; }

// Control values by name, the rest at their defaults.
std::vector<float> controls(const fk_model* m, std::vector<std::pair<const char*, const char*>> choices,
                            std::vector<std::pair<const char*, float>> numbers = {}) {
  fk_model_info info;
  fk_model_get_info(m, &info);
  std::vector<float> v(size_t(info.control_count));
  fk_model_default_controls(m, v.data(), info.control_count);
  for (auto& c : choices) {
    const int i = fk_model_find_control(m, c.first);
    const int k = fk_model_find_choice(m, i, c.second);
    CHECK(i >= 0 && k >= 0);
    if (i >= 0 && k >= 0) v[size_t(i)] = float(k);
  }
  for (auto& n : numbers) {
    const int i = fk_model_find_control(m, n.first);
    CHECK(i >= 0);
    if (i >= 0) v[size_t(i)] = n.second;
  }
  return v;
}

fk_engine* make_engine(int channels, int block, int max_voices = 32, int ring = 8192,
                       int overload_backlog = 8) {
  fk_engine_config c = fk_engine_config_default();
  c.channels = channels;
  c.max_block_frames = block;
  c.max_voices = max_voices;
  c.ambience_buffer_samples = ring;
  c.overload_backlog = overload_backlog;
  fk_engine* e = nullptr;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_OK);
  int32_t id = -1;
  CHECK_EQ(fk_engine_add_model(e, g_oneshot, &id), FK_RESULT_OK);
  CHECK_EQ(id, 0);
  CHECK_EQ(fk_engine_add_model(e, g_ambience, &id), FK_RESULT_OK);
  CHECK_EQ(id, 1);
  return e;
}

fk_engine_stats stats(fk_engine* e) {
  fk_engine_stats s;
  fk_engine_get_stats(e, &s);
  return s;
}

template <class Pred>
bool wait_until(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSyncMs);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

bool idle(fk_engine* e) {
  const fk_engine_stats s = stats(e);
  return s.jobs_pending == 0 && s.voices_ready == 0 && s.voices_playing == 0;
}

// Renders blocks of `block` frames (syncing first, so ambiences never run dry) until no voice
// is left or max_blocks; returns everything rendered.
std::vector<float> render_until_idle(fk_engine* e, int block, int channels, int max_blocks = 4000) {
  std::vector<float> out, buf(size_t(block) * size_t(channels));
  for (int b = 0; b < max_blocks; ++b) {
    CHECK(fk_engine_sync(e, kSyncMs));
    if (b > 0 && idle(e)) break;
    CHECK_EQ(fk_engine_render(e, buf.data(), block), FK_RESULT_OK);
    out.insert(out.end(), buf.begin(), buf.end());
  }
  return out;
}

std::vector<fk_engine_event> drain(fk_engine* e) {
  std::vector<fk_engine_event> ev;
  fk_engine_event x;
  while (fk_engine_poll_event(e, &x)) ev.push_back(x);
  return ev;
}

int count(const std::vector<fk_engine_event>& ev, fk_engine_event_type t, fk_voice_id v) {
  int n = 0;
  for (const auto& x : ev) n += x.type == t && x.voice == v;
  return n;
}

double rms(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
  return n ? std::sqrt(s / double(n)) : 0.0;
}

double peak(const float* x, size_t n) {
  double p = 0;
  for (size_t i = 0; i < n; ++i) p = std::max(p, double(std::fabs(x[i])));
  return p;
}

void test_config() {
  fk_engine_config c = fk_engine_config_default();
  CHECK_EQ(c.version, FK_CONFIG_VERSION);
  CHECK_EQ(c.sample_rate, 48000);
  CHECK_EQ(c.channels, 2);
  CHECK(c.worker_threads >= 1);
  CHECK_EQ(c.default_quality, FK_ENGINE_QUALITY_MEDIUM);
  CHECK_EQ(c.tiers[2].oneshot_method, FK_PHASE_METHOD_PGHI_GRIFFIN_LIM);
  fk_engine* e = reinterpret_cast<fk_engine*>(1);
  c.version = 99;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_VERSION_MISMATCH);
  CHECK(e == nullptr);
  c = fk_engine_config_default();
  c.channels = 3;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "channels"));
  c = fk_engine_config_default();
  c.worker_threads = 0;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "worker_threads"));
  c = fk_engine_config_default();
  c.tiers[0].gl_iterations = -1;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_create(nullptr, &e), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_create(&c, nullptr), FK_RESULT_INVALID_ARGUMENT);
  fk_engine_destroy(nullptr);  // fine

  // A model at another sample rate is refused by name.
  c = fk_engine_config_default();
  c.sample_rate = 44100;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_OK);
  int32_t id = 7;
  CHECK_EQ(fk_engine_add_model(e, g_oneshot, &id), FK_RESULT_UNSUPPORTED);
  CHECK(contains(fk_last_error(), "wrong sample rate"));
  CHECK_EQ(id, -1);
  CHECK_EQ(fk_engine_add_model(e, nullptr, &id), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(stats(e).models, 0);
  fk_engine_destroy(e);

  // A one-shot longer than a voice's buffer is refused, naming the setting.
  c = fk_engine_config_default();
  c.max_clip_seconds = 0.1f;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_OK);
  CHECK_EQ(fk_engine_add_model(e, g_oneshot, &id), FK_RESULT_UNSUPPORTED);
  CHECK(contains(fk_last_error(), "max_clip_seconds"));
  fk_engine_destroy(e);
}

// A trigger is in the first render after its worker finished.
void test_trigger_heard_next_block() {
  fk_engine* e = make_engine(2, 256);
  const auto v = controls(g_oneshot, {{"category", "impact"}, {"material", "metal"}});
  fk_voice_id voice = 0;
  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 42, 1.0f, 0.0f, FK_ENGINE_QUALITY_AUTO,
                             &voice),
           FK_RESULT_OK);
  CHECK(voice != 0);
  CHECK_EQ(int(voice & 0xffff), 0);  // the model id rides in the low bits
  // Wait for the worker (a stats condition), then exactly one render.
  CHECK(wait_until([&] { return stats(e).jobs_pending == 0; }));
  CHECK_EQ(stats(e).voices_ready, 1);
  std::vector<float> buf(256 * 2);
  CHECK_EQ(fk_engine_render(e, buf.data(), 256), FK_RESULT_OK);
  CHECK(peak(buf.data(), buf.size()) > 1e-3);
  const fk_engine_stats s = stats(e);
  CHECK_EQ(s.voices_started, 1);
  CHECK_EQ(s.voices_playing, 1);
  CHECK_EQ(s.voices_ready, 0);
  CHECK_EQ(s.oneshots_rendered, 1);
  // Centre pan is constant power: equal channels.
  bool equal = true;
  for (size_t i = 0; i < 256; ++i) equal = equal && buf[2 * i] == buf[2 * i + 1];
  CHECK(equal);
  fk_engine_destroy(e);
}

// The same trigger gives the same samples whatever the host's block size (1000 is above
// max_block_frames 512: render loops internally).
void test_determinism_across_blocks() {
  const auto v = controls(g_oneshot, {{"category", "footstep"}, {"surface", "gravel"}});
  std::vector<std::vector<float>> outs;
  for (int block : {64, 256, 1000}) {
    fk_engine* e = make_engine(2, 512);
    fk_voice_id voice = 0;
    CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 7, 0.8f, -0.3f, FK_ENGINE_QUALITY_MEDIUM,
                               &voice),
             FK_RESULT_OK);
    outs.push_back(render_until_idle(e, block, 2));
    fk_engine_destroy(e);
  }
  // Each output starts with the voice; trailing silence depends on where the last block ended.
  const size_t n = std::min({outs[0].size(), outs[1].size(), outs[2].size()});
  CHECK(n > 2 * 4096);
  CHECK(peak(outs[0].data(), n) > 1e-3);
  for (size_t k = 1; k < outs.size(); ++k) CHECK(std::memcmp(outs[0].data(), outs[k].data(), n * sizeof(float)) == 0);
  for (auto& o : outs) CHECK(peak(o.data() + n, o.size() - n) == 0.0);
  // Panned left of centre: the left channel is louder.
  double l = 0, r = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    l += std::fabs(outs[0][i]);
    r += std::fabs(outs[0][i + 1]);
  }
  CHECK(l > r);

  // An ambience too, as long as its worker keeps up (sync before each block).
  const auto a = controls(g_ambience, {{"category", "fire"}});
  std::vector<std::vector<float>> amb;
  for (int block : {64, 256, 1000}) {
    fk_engine* e = make_engine(2, 512);
    fk_voice_id voice = 0;
    CHECK_EQ(fk_engine_start(e, 1, a.data(), int32_t(a.size()), 5, 1.0f, 0.5f, FK_ENGINE_QUALITY_AUTO, &voice),
             FK_RESULT_OK);
    std::vector<float> buf(size_t(block) * 2);
    amb.emplace_back();
    while (amb.back().size() < size_t(2) * 48000) {
      CHECK(fk_engine_sync(e, kSyncMs));
      CHECK_EQ(fk_engine_render(e, buf.data(), block), FK_RESULT_OK);
      amb.back().insert(amb.back().end(), buf.begin(), buf.end());
    }
    CHECK_EQ(stats(e).underruns, 0);
    fk_engine_destroy(e);
  }
  CHECK(peak(amb[0].data(), size_t(2) * 48000) > 1e-3);
  for (size_t k = 1; k < amb.size(); ++k)
    CHECK(std::memcmp(amb[0].data(), amb[k].data(), size_t(2) * 48000 * sizeof(float)) == 0);

  // Seed and controls matter: another seed gives other samples.
  fk_engine* e = make_engine(2, 512);
  fk_voice_id voice = 0;
  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 8, 0.8f, -0.3f, FK_ENGINE_QUALITY_MEDIUM, &voice),
           FK_RESULT_OK);
  const std::vector<float> other = render_until_idle(e, 256, 2);
  CHECK(std::memcmp(other.data(), outs[0].data(), std::min(other.size(), n) * sizeof(float)) != 0);
  fk_engine_destroy(e);
}

// Mono at gain 1 plays what the model and the one-call synthesizer make (the engine renders
// frames * hop samples and fades the last 2 ms; fk_synth_render gives hop * (frames - 1)).
void test_matches_model_and_synth() {
  const auto v = controls(g_oneshot, {{"category", "door"}});
  fk_engine* e = make_engine(1, 256);
  fk_voice_id voice = 0;
  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 3, 1.0f, 0.0f, FK_ENGINE_QUALITY_MEDIUM, &voice),
           FK_RESULT_OK);
  const std::vector<float> got = render_until_idle(e, 256, 1);
  fk_engine_destroy(e);

  fk_model_info info;
  fk_model_get_info(g_oneshot, &info);
  fk_model_session* s = nullptr;
  CHECK_EQ(fk_model_session_create(g_oneshot, &s), FK_RESULT_OK);
  std::vector<float> mel(size_t(info.max_frames) * size_t(info.spectrogram.n_mels));
  int32_t frames = 0;
  CHECK_EQ(fk_model_generate(s, v.data(), int32_t(v.size()), 3, mel.data(), info.max_frames, &frames), FK_RESULT_OK);
  fk_model_session_destroy(s);
  fk_synth* synth = nullptr;
  CHECK_EQ(fk_synth_create(&info.spectrogram, &synth), FK_RESULT_OK);
  std::vector<float> ref(size_t(fk_synth_output_length(synth, frames)));
  int64_t n = 0;
  CHECK_EQ(fk_synth_render(synth, mel.data(), info.spectrogram.n_mels, frames, FK_SPEC_KIND_LOG_MEL,
                           FK_PHASE_METHOD_PGHI, 0, 3, ref.data(), int64_t(ref.size()), &n),
           FK_RESULT_OK);
  fk_synth_destroy(synth);
  // The last frame's overlap-add differs with the output length; compare before it.
  const size_t cmp = size_t(std::max<int64_t>(0, n - info.spectrogram.n_fft));
  CHECK(cmp > 1000 && got.size() >= cmp);
  double err = 0;
  for (size_t i = 0; i < cmp && i < got.size(); ++i) err = std::max(err, double(std::fabs(got[i] - ref[i])));
  std::printf("  engine vs fk_synth_render: %zu samples, max |diff| %.3g\n", cmp, err);
  CHECK(err < 1e-5);
}

// stop() fades to silence over fade_ms, then the voice ends. The same ambience without the
// stop gives the fade's gain sample by sample: it must fall steadily from 1 to 0.
void test_stop_fades() {
  const int block = 128, fade = 48000 * 50 / 1000;
  const auto v = controls(g_ambience, {{"category", "rain"}}, {{"intensity", 0.8f}});
  std::vector<float> after[2];
  fk_engine* e = nullptr;
  fk_voice_id voice = 0;
  for (int k = 0; k < 2; ++k) {
    e = make_engine(1, block);
    CHECK_EQ(fk_engine_start(e, 1, v.data(), int32_t(v.size()), 5, 1.0f, 0.0f, FK_ENGINE_QUALITY_AUTO, &voice),
             FK_RESULT_OK);
    std::vector<float> buf(block);
    double before = 0;
    for (int b = 0; b < 20; ++b) {
      CHECK(fk_engine_sync(e, kSyncMs));
      CHECK_EQ(fk_engine_render(e, buf.data(), block), FK_RESULT_OK);
      before = std::max(before, peak(buf.data(), buf.size()));
    }
    CHECK(before > 1e-3);
    if (k == 1) CHECK_EQ(fk_engine_stop(e, voice, 50.0f), FK_RESULT_OK);
    for (int b = 0; b < 40; ++b) {
      CHECK(fk_engine_sync(e, kSyncMs));  // after the first, the stop is with the audio thread
      CHECK_EQ(fk_engine_render(e, buf.data(), block), FK_RESULT_OK);
      after[k].insert(after[k].end(), buf.begin(), buf.end());
    }
    if (k == 0) fk_engine_destroy(e);
  }
  // Gain of the fade = stopped / free, where the free voice is audible.
  double last = 1.0 + 1e-6, first = -1;
  bool monotone = true;
  for (int i = 0; i < fade; ++i) {
    if (std::fabs(after[0][size_t(i)]) < 1e-3) continue;
    const double g = double(after[1][size_t(i)]) / double(after[0][size_t(i)]);
    if (first < 0) first = g;
    monotone = monotone && g <= last + 1e-5 && g >= -1e-6;
    last = g;
  }
  CHECK(monotone);
  CHECK(first > 0.9);  // it starts where the voice was
  CHECK(last < 0.1);   // and ends near silence
  CHECK(peak(after[1].data() + fade, after[1].size() - size_t(fade)) == 0.0);
  CHECK(peak(after[0].data() + fade, after[0].size() - size_t(fade)) > 1e-3);
  const auto ev = drain(e);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_STARTED, voice), 1);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_ENDED, voice), 1);
  CHECK_EQ(stats(e).voices_playing, 0);
  // Stopping an ended voice is fine (ignored).
  CHECK_EQ(fk_engine_stop(e, voice, 10.0f), FK_RESULT_OK);

  // A voice stopped before it plays ends without sounding.
  const auto w = controls(g_oneshot, {{"category", "impact"}});
  fk_voice_id a = 0, b = 0;
  CHECK_EQ(fk_engine_trigger(e, 0, w.data(), int32_t(w.size()), 1, 1.0f, 0.0f, FK_ENGINE_QUALITY_HIGH, &a),
           FK_RESULT_OK);
  CHECK_EQ(fk_engine_trigger(e, 0, w.data(), int32_t(w.size()), 2, 1.0f, 0.0f, FK_ENGINE_QUALITY_HIGH, &b),
           FK_RESULT_OK);
  CHECK_EQ(fk_engine_stop(e, b, 0.0f), FK_RESULT_OK);
  render_until_idle(e, block, 1);
  const auto ev2 = drain(e);
  CHECK_EQ(count(ev2, FK_ENGINE_EVENT_VOICE_ENDED, a), 1);
  CHECK_EQ(count(ev2, FK_ENGINE_EVENT_VOICE_ENDED, b), 1);
  CHECK_EQ(count(ev2, FK_ENGINE_EVENT_VOICE_STARTED, a), 1);
  fk_engine_destroy(e);
}

// At the voice limit the quietest voice is stolen: an old quiet one, or the newcomer itself.
void test_voice_stealing() {
  fk_engine* e = make_engine(2, 256, /*max_voices=*/2);
  const auto v = controls(g_oneshot, {{"category", "explosion"}});
  auto trig = [&](float gain) {
    fk_voice_id id = 0;
    CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 11, gain, 0.0f, FK_ENGINE_QUALITY_MEDIUM, &id),
             FK_RESULT_OK);
    return id;
  };
  std::vector<float> buf(256 * 2);
  const fk_voice_id loud = trig(1.0f), mid = trig(0.5f);
  CHECK(fk_engine_sync(e, kSyncMs));
  CHECK_EQ(fk_engine_render(e, buf.data(), 256), FK_RESULT_OK);
  const fk_voice_id quiet = trig(0.2f);  // quieter than both: never sounds
  CHECK(fk_engine_sync(e, kSyncMs));
  CHECK_EQ(fk_engine_render(e, buf.data(), 256), FK_RESULT_OK);
  auto ev = drain(e);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_STOLEN, quiet), 1);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_STARTED, quiet), 0);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_ENDED, quiet), 1);
  const fk_voice_id louder = trig(2.0f);  // louder than `mid`, the quietest playing
  CHECK(fk_engine_sync(e, kSyncMs));
  CHECK_EQ(fk_engine_render(e, buf.data(), 256), FK_RESULT_OK);
  ev = drain(e);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_STOLEN, mid), 1);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_STARTED, louder), 1);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_STOLEN, loud), 0);
  // The stolen voice fades (10 ms), then ends; the limit holds throughout.
  for (int b = 0; b < 4; ++b) CHECK_EQ(fk_engine_render(e, buf.data(), 256), FK_RESULT_OK);
  ev = drain(e);
  CHECK_EQ(count(ev, FK_ENGINE_EVENT_VOICE_ENDED, mid), 1);
  CHECK_EQ(stats(e).voices_playing, 2);
  CHECK_EQ(stats(e).voices_stolen, 2);
  fk_engine_destroy(e);
}

// set_controls moves a playing ambience: identical until the change reaches the ring's
// output, louder after (rain intensity 0.05 -> 1).
void test_set_controls() {
  const int block = 256, blocks = 600;  // 3.2 s
  const auto soft = controls(g_ambience, {{"category", "rain"}}, {{"intensity", 0.05f}});
  const auto hard = controls(g_ambience, {{"category", "rain"}}, {{"intensity", 1.0f}});
  std::vector<float> out[2];
  for (int k = 0; k < 2; ++k) {
    fk_engine* e = make_engine(1, block);
    fk_voice_id voice = 0;
    CHECK_EQ(fk_engine_start(e, 1, soft.data(), int32_t(soft.size()), 9, 1.0f, 0.0f, FK_ENGINE_QUALITY_MEDIUM,
                             &voice),
             FK_RESULT_OK);
    std::vector<float> buf(block);
    for (int b = 0; b < blocks; ++b) {
      if (k == 1 && b == 100) CHECK_EQ(fk_engine_set_controls(e, voice, hard.data(), int32_t(hard.size())), FK_RESULT_OK);
      CHECK(fk_engine_sync(e, kSyncMs));
      CHECK_EQ(fk_engine_render(e, buf.data(), block), FK_RESULT_OK);
      out[k].insert(out[k].end(), buf.begin(), buf.end());
    }
    CHECK_EQ(stats(e).underruns, 0);
    // Refusals: a one-shot voice, wrong count, out of range, unknown voice.
    CHECK_EQ(fk_engine_set_controls(e, voice, hard.data(), 2), FK_RESULT_INVALID_ARGUMENT);
    CHECK(contains(fk_last_error(), "control values"));
    std::vector<float> bad = hard;
    bad[size_t(fk_model_find_control(g_ambience, "intensity"))] = 3.0f;
    CHECK_EQ(fk_engine_set_controls(e, voice, bad.data(), int32_t(bad.size())), FK_RESULT_INVALID_ARGUMENT);
    CHECK(contains(fk_last_error(), "intensity"));
    CHECK_EQ(fk_engine_set_controls(e, voice, nullptr, 0), FK_RESULT_INVALID_ARGUMENT);
    CHECK_EQ(fk_engine_set_controls(e, (fk_voice_id(999999) << 16) | 1, hard.data(), int32_t(hard.size())),
             FK_RESULT_INVALID_ARGUMENT);
    CHECK(contains(fk_last_error(), "unknown voice"));
    fk_voice_id shot = 0;
    CHECK_EQ(fk_engine_trigger(e, 0, nullptr, 0, 1, 1.0f, 0.0f, FK_ENGINE_QUALITY_AUTO, &shot), FK_RESULT_OK);
    CHECK_EQ(fk_engine_set_controls(e, shot, hard.data(), int32_t(hard.size())), FK_RESULT_UNSUPPORTED);
    CHECK(contains(fk_last_error(), "one-shot"));
    fk_engine_destroy(e);
  }
  const size_t change = size_t(100) * block;
  CHECK(std::memcmp(out[0].data(), out[1].data(), change * sizeof(float)) == 0);
  const size_t tail = out[0].size() - 48000;  // the last second
  const double r0 = rms(out[0].data() + tail, 48000), r1 = rms(out[1].data() + tail, 48000);
  std::printf("  rain rms, last second: intensity 0.05 %.4f, raised to 1.0 %.4f\n", r0, r1);
  CHECK(r1 > 1.5 * r0);
  // Smoothed: the change makes no sample-to-sample jump beyond what the loud rain has itself.
  double jump_change = 0, jump_tail = 0;
  for (size_t i = change; i < out[1].size(); ++i) {
    const double j = std::fabs(out[1][i] - out[1][i - 1]);
    (i < tail ? jump_change : jump_tail) = std::max(i < tail ? jump_change : jump_tail, j);
  }
  CHECK(jump_change <= 2 * jump_tail);
}

void test_bad_input() {
  fk_engine* e = make_engine(2, 128);
  const auto v = controls(g_oneshot, {{"category", "ui"}});
  fk_voice_id voice = 123;
  // Unknown model id.
  CHECK_EQ(fk_engine_trigger(e, 5, v.data(), int32_t(v.size()), 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice),
           FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "unknown model id 5"));
  CHECK_EQ(voice, 0);
  CHECK_EQ(fk_engine_trigger(e, -1, nullptr, 0, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_INVALID_ARGUMENT);
  // Wrong value count; NULL values with a count.
  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), 3, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "expected"));
  CHECK_EQ(fk_engine_trigger(e, 0, nullptr, 3, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_INVALID_ARGUMENT);
  // Out-of-range control values, named.
  std::vector<float> bad = v;
  bad[size_t(fk_model_find_control(g_oneshot, "velocity"))] = 1000.0f;
  CHECK_EQ(fk_engine_trigger(e, 0, bad.data(), int32_t(bad.size()), 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice),
           FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "velocity"));
  bad = v;
  bad[size_t(fk_model_find_control(g_oneshot, "material"))] = 17.0f;
  CHECK_EQ(fk_engine_trigger(e, 0, bad.data(), int32_t(bad.size()), 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice),
           FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "material"));
  bad[size_t(fk_model_find_control(g_oneshot, "material"))] = NAN;
  CHECK_EQ(fk_engine_trigger(e, 0, bad.data(), int32_t(bad.size()), 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice),
           FK_RESULT_INVALID_ARGUMENT);
  // Gain, pan, quality, outputs.
  CHECK_EQ(fk_engine_trigger(e, 0, nullptr, 0, 0, NAN, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "gain"));
  CHECK_EQ(fk_engine_trigger(e, 0, nullptr, 0, 0, -1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_trigger(e, 0, nullptr, 0, 0, 1, 1.5f, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "pan"));
  CHECK_EQ(fk_engine_trigger(e, 0, nullptr, 0, 0, 1, 0, (fk_engine_quality)9, &voice), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_trigger(e, 0, nullptr, 0, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, nullptr), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_trigger(nullptr, 0, nullptr, 0, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_INVALID_ARGUMENT);
  // The wrong mode for the call.
  CHECK_EQ(fk_engine_trigger(e, 1, nullptr, 0, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_UNSUPPORTED);
  CHECK(contains(fk_last_error(), "fk_engine_start"));
  CHECK_EQ(fk_engine_start(e, 0, nullptr, 0, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_UNSUPPORTED);
  CHECK(contains(fk_last_error(), "fk_engine_trigger"));
  // Voice ids that were never issued; bad fades and gains.
  CHECK_EQ(fk_engine_stop(e, 0, 10.0f), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_stop(e, fk_voice_id(1) << 40, 10.0f), FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "unknown voice"));
  CHECK_EQ(fk_engine_set_voice_gain(e, 12345, 1.0f, 0.0f), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(stats(e).jobs_pending, 0);  // nothing refused was queued

  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 4, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_OK);
  CHECK_EQ(fk_engine_stop(e, voice, -5.0f), FK_RESULT_INVALID_ARGUMENT);
  CHECK(contains(fk_last_error(), "fade_ms"));
  CHECK_EQ(fk_engine_stop(e, voice, NAN), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_set_voice_gain(e, voice, 1.0f, -2.0f), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_set_voice_gain(e, voice, 0.5f, 0.5f), FK_RESULT_OK);

  // render: NULL buffers and negative counts are refused; zero frames is a no-op.
  CHECK_EQ(fk_engine_render(e, nullptr, 64), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_render(e, nullptr, 0), FK_RESULT_OK);
  std::vector<float> buf(2 * 2000);
  CHECK_EQ(fk_engine_render(e, buf.data(), -1), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_render(nullptr, buf.data(), 64), FK_RESULT_INVALID_ARGUMENT);
  CHECK(fk_engine_poll_event(e, nullptr) == 0);
  CHECK_EQ(fk_engine_get_stats(e, nullptr), FK_RESULT_INVALID_ARGUMENT);
  CHECK_EQ(fk_engine_set_event_callback(nullptr, nullptr, nullptr), FK_RESULT_INVALID_ARGUMENT);
  CHECK(fk_engine_sync(nullptr, 1) == 0);
  fk_engine_destroy(e);

  // More frames than max_block_frames (128) in one call: the same samples as small blocks.
  std::vector<float> one, many;
  for (int k = 0; k < 2; ++k) {
    fk_engine* f = make_engine(2, 128);
    const auto w = controls(g_oneshot, {{"category", "glass_break"}});
    CHECK_EQ(fk_engine_trigger(f, 0, w.data(), int32_t(w.size()), 21, 1, 0.4f, FK_ENGINE_QUALITY_AUTO, &voice),
             FK_RESULT_OK);
    CHECK(fk_engine_sync(f, kSyncMs));
    std::vector<float>& out = k == 0 ? one : many;
    out.assign(size_t(2) * 2000, 0.0f);
    if (k == 0) {
      CHECK_EQ(fk_engine_render(f, out.data(), 2000), FK_RESULT_OK);
    } else {
      for (int at = 0; at < 2000; at += 100) CHECK_EQ(fk_engine_render(f, out.data() + 2 * at, 100), FK_RESULT_OK);
    }
    CHECK_EQ(stats(f).frames_rendered, 2000);
    fk_engine_destroy(f);
  }
  CHECK(peak(one.data(), one.size()) > 1e-3);
  CHECK(one == many);
}

std::atomic<int> g_cb_ended{0};
std::atomic<fk_voice_id> g_cb_voice{0};
std::atomic<bool> g_cb_on_render_thread{false};
std::thread::id g_render_thread;

void FK_CALL on_event(const fk_engine_event* ev, void* user) {
  if (std::this_thread::get_id() == g_render_thread) g_cb_on_render_thread = true;
  *static_cast<int*>(user) += 1;
  if (ev->type == FK_ENGINE_EVENT_VOICE_ENDED && ev->voice == g_cb_voice.load()) g_cb_ended.fetch_add(1);
}

void test_events() {
  fk_engine* e = make_engine(2, 256);
  const auto v = controls(g_oneshot, {{"category", "whoosh"}});
  fk_voice_id voice = 0;
  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 1, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_OK);
  render_until_idle(e, 256, 2);
  const auto ev = drain(e);
  CHECK_EQ(ev.size(), 2);
  if (ev.size() == 2) {
    CHECK_EQ(ev[0].type, FK_ENGINE_EVENT_VOICE_STARTED);
    CHECK_EQ(ev[0].voice, voice);
    CHECK_EQ(ev[0].model, 0);
    CHECK_EQ(ev[0].frame, 0);
    CHECK(ev[0].value >= 0);  // microseconds from trigger to the block that played it
    CHECK_EQ(ev[1].type, FK_ENGINE_EVENT_VOICE_ENDED);
    CHECK_EQ(ev[1].voice, voice);
    CHECK(ev[1].frame > 0);
  }
  CHECK(fk_engine_poll_event(e, nullptr) == 0);

  // With a callback, events arrive on a worker thread, never on the audio (render) thread.
  int calls = 0;
  g_render_thread = std::this_thread::get_id();
  CHECK_EQ(fk_engine_set_event_callback(e, on_event, &calls), FK_RESULT_OK);
  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 2, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_OK);
  g_cb_voice = voice;
  render_until_idle(e, 256, 2);
  CHECK(wait_until([&] { return g_cb_ended.load() == 1; }));
  fk_engine_event x;
  CHECK(fk_engine_poll_event(e, &x) == 0);  // the callback took them
  CHECK_EQ(fk_engine_set_event_callback(e, nullptr, nullptr), FK_RESULT_OK);
  CHECK(calls >= 2);  // read after clearing: no call is in progress any more
  CHECK(!g_cb_on_render_thread.load());

  // Overload: a burst of expensive one-shots backs the worker up; later ones go Low.
  fk_engine* o = make_engine(2, 256, 64, 8192, /*overload_backlog=*/2);
  for (int i = 0; i < 24; ++i)
    CHECK_EQ(fk_engine_trigger(o, 0, v.data(), int32_t(v.size()), uint64_t(i), 1, 0, FK_ENGINE_QUALITY_HIGH, &voice),
             FK_RESULT_OK);
  CHECK(fk_engine_sync(o, kSyncMs));
  const auto oe = drain(o);
  int overloads = 0;
  for (const auto& y : oe) overloads += y.type == FK_ENGINE_EVENT_OVERLOAD;
  CHECK(overloads >= 1);
  CHECK(stats(o).overloads >= 1);
  CHECK_EQ(stats(o).oneshots_rendered, 24);
  fk_engine_destroy(o);
  fk_engine_destroy(e);
}

// An ambience rendered faster than its worker can stream runs dry: counted, reported, and
// faded to silence rather than glitching.
void test_underrun() {
  fk_engine* e = make_engine(1, 512, 32, /*ring=*/4096);
  const auto v = controls(g_ambience, {{"category", "wind"}});
  fk_voice_id voice = 0;
  CHECK_EQ(fk_engine_start(e, 1, v.data(), int32_t(v.size()), 3, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice), FK_RESULT_OK);
  CHECK(fk_engine_sync(e, kSyncMs));
  // 60 s of audio as fast as render goes: far beyond any worker's pace.
  std::vector<float> buf(512);
  bool finite = true;
  double worst = 0;
  for (int b = 0; b < 48000 * 60 / 512; ++b) {
    CHECK_EQ(fk_engine_render(e, buf.data(), 512), FK_RESULT_OK);
    for (float x : buf) finite = finite && std::isfinite(x);
    worst = std::max(worst, peak(buf.data(), buf.size()));
  }
  CHECK(finite);
  CHECK(worst < 4.0);
  const fk_engine_stats s = stats(e);
  std::printf("  underruns while rendering 60 s flat out: %llu\n", (unsigned long long)s.underruns);
  CHECK(s.underruns >= 1);
  int reported = 0;
  for (const auto& x : drain(e)) reported += x.type == FK_ENGINE_EVENT_UNDERRUN && x.voice == voice;
  CHECK(reported >= 1);
  fk_engine_destroy(e);
}

// A long one-shot starts playing once its worker has made the first part, and the worker
// writes the rest meanwhile. Driven without sync (render in a tight loop right after the
// trigger, as fast as it goes), every other voice stopped after its first audible block:
// a voice that played without running dry has exactly the samples of the same trigger
// rendered after sync; every voice ends exactly once; and no slot is lost to the hand-over
// between the audio thread and the worker (five slots, 40 voices: a leak stalls the end).
void test_oneshot_plays_while_being_made() {
  fk_engine* e = make_engine(1, 256, /*max_voices=*/1);
  const auto v = controls(g_oneshot, {{"category", "explosion"}});
  std::vector<float> buf(256);
  // The reference: trigger, sync, render.
  auto started_at = [&](fk_voice_id voice, int64_t* frame) {
    for (const auto& x : drain(e))
      if (x.type == FK_ENGINE_EVENT_VOICE_STARTED && x.voice == voice) *frame = x.frame;
  };
  std::vector<std::vector<float>> reference;
  for (int k = 0; k < 4; ++k) {
    fk_voice_id voice = 0;
    CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), uint64_t(100 + k), 1.0f, 0.0f,
                               FK_ENGINE_QUALITY_MEDIUM, &voice), FK_RESULT_OK);
    const int64_t t0 = int64_t(stats(e).frames_rendered);
    std::vector<float> out = render_until_idle(e, 256, 1);
    int64_t start = -1;
    started_at(voice, &start);
    CHECK(start >= t0);
    out.erase(out.begin(), out.begin() + (start - t0));
    reference.push_back(out);
  }
  int early = 0, compared = 0, dry = 0;
  std::vector<fk_voice_id> voices;
  for (int i = 0; i < 40; ++i) {
    const int k = i % 4;
    const bool stop_early = (i / 4) % 2 == 1;
    fk_voice_id voice = 0;
    const uint64_t under0 = stats(e).underruns;
    CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), uint64_t(100 + k), 1.0f, 0.0f,
                               FK_ENGINE_QUALITY_MEDIUM, &voice), FK_RESULT_OK);
    voices.push_back(voice);
    const int64_t t0 = int64_t(stats(e).frames_rendered);
    std::vector<float> out;
    bool playing = false, stopped = false;
    for (int b = 0; b < 20000; ++b) {
      CHECK_EQ(fk_engine_render(e, buf.data(), 256), FK_RESULT_OK);
      out.insert(out.end(), buf.begin(), buf.end());
      const fk_engine_stats s = stats(e);
      if (!playing && s.voices_playing > 0) {
        playing = true;
        early += s.jobs_pending > 0;  // playing while its worker still writes it
        if (stop_early) {
          CHECK_EQ(fk_engine_stop(e, voice, 0.0f), FK_RESULT_OK);
          stopped = true;
        }
      }
      if (playing && s.voices_playing == 0 && s.voices_ready == 0) break;
      // While its worker still writes it, give the worker a moment per block (real time
      // would give it 5 ms): the voice then plays on without running dry.
      if (playing && s.jobs_pending > 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    CHECK(playing);
    CHECK(fk_engine_sync(e, kSyncMs));
    int64_t start = -1;
    started_at(voice, &start);
    CHECK(start >= t0);
    if (stats(e).underruns != under0) {
      ++dry;
    } else if (!stopped && start >= t0) {
      out.erase(out.begin(), out.begin() + (start - t0));
      const std::vector<float>& ref = reference[size_t(k)];
      const size_t n = std::min(out.size(), ref.size());
      CHECK(n > 20000 && std::memcmp(out.data(), ref.data(), n * sizeof(float)) == 0);
      ++compared;
    }
  }
  render_until_idle(e, 256, 1);
  std::printf("  %d of 40 voices started while their worker was still writing; %d ran dry; "
              "%d compared bit for bit\n", early, dry, compared);
  // Nothing leaked: a fresh voice is still made and heard.
  fk_voice_id last = 0;
  CHECK_EQ(fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), 7, 1.0f, 0.0f, FK_ENGINE_QUALITY_AUTO, &last),
           FK_RESULT_OK);
  CHECK(fk_engine_sync(e, kSyncMs));
  CHECK_EQ(stats(e).voices_ready, 1);
  render_until_idle(e, 256, 1);
  voices.push_back(last);
  const fk_engine_stats st = stats(e);
  CHECK_EQ(st.voices_ended, uint64_t(voices.size() + reference.size()));
  CHECK(st.ready_latency_ns > 0);
  // These explosions are long (over 32 frames): every one, whatever the timing, was handed
  // to the audio thread after its first part.
  CHECK_EQ(st.oneshots_early, st.oneshots_rendered);
  fk_engine_destroy(e);
}

// Every voice id ends exactly once, also with several workers.
void test_accounting_multi_worker() {
  fk_engine_config c = fk_engine_config_default();
  c.worker_threads = 3;
  c.max_voices = 4;
  fk_engine* e = nullptr;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_OK);
  int32_t id;
  CHECK_EQ(fk_engine_add_model(e, g_oneshot, &id), FK_RESULT_OK);
  CHECK_EQ(fk_engine_add_model(e, g_ambience, &id), FK_RESULT_OK);
  std::vector<fk_voice_id> voices;
  std::vector<float> buf(2 * 256);
  for (int i = 0; i < 30; ++i) {
    fk_voice_id v = 0;
    const fk_result r = i % 10 == 5 ? fk_engine_start(e, 1, nullptr, 0, uint64_t(i), 0.5f, 0, FK_ENGINE_QUALITY_AUTO, &v)
                                    : fk_engine_trigger(e, 0, nullptr, 0, uint64_t(i), float(i % 7) / 7.0f, 0,
                                                        FK_ENGINE_QUALITY_AUTO, &v);
    CHECK_EQ(r, FK_RESULT_OK);
    voices.push_back(v);
    if (i % 3 == 0) CHECK_EQ(fk_engine_stop(e, voices[size_t(i / 2)], 5.0f), FK_RESULT_OK);
    fk_engine_render(e, buf.data(), 256);
  }
  for (fk_voice_id v : voices) fk_engine_stop(e, v, 1.0f);  // the ambiences never end by themselves
  render_until_idle(e, 256, 2);
  const auto ev = drain(e);
  int wrong = 0;
  for (fk_voice_id v : voices) wrong += count(ev, FK_ENGINE_EVENT_VOICE_ENDED, v) != 1;
  CHECK_EQ(wrong, 0);
  const fk_engine_stats s = stats(e);
  CHECK_EQ(s.voices_ended, voices.size());
  CHECK_EQ(s.events_dropped, 0);
  fk_engine_destroy(e);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: test_engine <folder with oneshots.fkm and ambiences.fkm>\n");
    return 2;
  }
  g_dir = argv[1];
  if (fk_model_load((g_dir + "/oneshots.fkm").c_str(), &g_oneshot) != FK_RESULT_OK ||
      fk_model_load((g_dir + "/ambiences.fkm").c_str(), &g_ambience) != FK_RESULT_OK) {
    std::fprintf(stderr, "cannot load the default models: %s\n", fk_last_error());
    return 1;
  }
  struct {
    const char* name;
    void (*fn)();
  } tests[] = {
      {"config", test_config},
      {"trigger heard in the next block", test_trigger_heard_next_block},
      {"determinism across block sizes", test_determinism_across_blocks},
      {"engine = model + synth", test_matches_model_and_synth},
      {"stop fades", test_stop_fades},
      {"voice stealing", test_voice_stealing},
      {"set_controls", test_set_controls},
      {"bad input", test_bad_input},
      {"events", test_events},
      {"underrun", test_underrun},
      {"accounting, 3 workers", test_accounting_multi_worker},
      {"one-shot plays while being made", test_oneshot_plays_while_being_made},
  };
  for (auto& t : tests) {
    std::printf("%s\n", t.name);
    t.fn();
  }
  fk_model_destroy(g_oneshot);
  fk_model_destroy(g_ambience);
  return fk_check_summary("test_engine");
}

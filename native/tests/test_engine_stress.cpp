// Every engine entry point from several threads at once: an audio thread rendering, two game
// threads triggering, re-panning and stopping one-shots, one starting, steering and stopping
// ambiences, one polling events and stats while switching the event callback on and off.
// Afterwards every voice id handed out must have ended exactly once. Fixed iteration
// counts, no timing assertions. .ci/tsan runs this under ThreadSanitizer, which turns any
// data race in the hand-overs into a failure.
#include <foleykit/foleykit.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "check.h"

namespace {

struct Log {
  std::mutex mu;
  std::vector<fk_voice_id> issued;
  std::map<fk_voice_id, int> ended;
  long events = 0;
  void issue(fk_voice_id v) {
    std::lock_guard<std::mutex> lock(mu);
    issued.push_back(v);
  }
  void event(const fk_engine_event& e) {
    std::lock_guard<std::mutex> lock(mu);
    ++events;
    if (e.type == FK_ENGINE_EVENT_VOICE_ENDED) ++ended[e.voice];
  }
};

Log g_log;

void FK_CALL on_event(const fk_engine_event* e, void*) { g_log.event(*e); }

// A small deterministic generator per thread (no shared state, no locks).
struct Rng {
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(s >> 33);
  }
  float unit() { return float(next() % 10000) / 10000.0f; }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: test_engine_stress <folder with oneshots.fkm and ambiences.fkm>\n");
    return 2;
  }
  const std::string dir = argv[1];
  fk_model *oneshot = nullptr, *ambience = nullptr;
  if (fk_model_load((dir + "/oneshots.fkm").c_str(), &oneshot) != FK_RESULT_OK ||
      fk_model_load((dir + "/ambiences.fkm").c_str(), &ambience) != FK_RESULT_OK) {
    std::fprintf(stderr, "cannot load the default models: %s\n", fk_last_error());
    return 1;
  }
  fk_engine_config c = fk_engine_config_default();
  c.worker_threads = 2;
  c.max_voices = 6;  // stealing all the time
  c.max_block_frames = 128;
  c.event_capacity = 1 << 16;
  c.command_capacity = 64;
  fk_engine* e = nullptr;
  CHECK_EQ(fk_engine_create(&c, &e), FK_RESULT_OK);
  int32_t id = 0;
  CHECK_EQ(fk_engine_add_model(e, oneshot, &id), FK_RESULT_OK);
  CHECK_EQ(fk_engine_add_model(e, ambience, &id), FK_RESULT_OK);
  // The engine shares the models: the host's handles may go now.
  fk_model_info oi, ai;
  fk_model_get_info(oneshot, &oi);
  fk_model_get_info(ambience, &ai);
  std::vector<float> odef(size_t(oi.control_count)), adef(size_t(ai.control_count));
  fk_model_default_controls(oneshot, odef.data(), oi.control_count);
  fk_model_default_controls(ambience, adef.data(), ai.control_count);
  const int cat = fk_model_find_control(oneshot, "category");
  const int intensity = fk_model_find_control(ambience, "intensity");
  fk_model_destroy(oneshot);
  fk_model_destroy(ambience);

  std::atomic<bool> game_done{false};
  std::atomic<int> bad{0}, refused{0};

  std::thread audio([&] {
    std::vector<float> buf(2 * 300);
    long blocks = 0;
    while (!game_done.load() || blocks < 2000) {
      // Odd sizes, some above max_block_frames.
      const int n = 64 + int(blocks % 5) * 59;
      if (fk_engine_render(e, buf.data(), n) != FK_RESULT_OK) ++bad;
      if (++blocks % 16 == 0) std::this_thread::yield();
    }
  });

  auto game = [&](uint64_t seed) {
    Rng r{seed};
    std::vector<fk_voice_id> mine;
    std::vector<float> v = odef;
    for (int i = 0; i < 60; ++i) {
      v[size_t(cat)] = float(r.next() % 8);
      fk_voice_id voice = 0;
      const fk_engine_quality q = fk_engine_quality(r.next() % 3);  // AUTO, LOW, MEDIUM
      const uint64_t seed = r.next();
      const float gain = 0.1f + r.unit(), pan = 2 * r.unit() - 1;
      fk_result res;
      // A full queue (the workers are behind) refuses the call and queues nothing; retry.
      while ((res = fk_engine_trigger(e, 0, v.data(), int32_t(v.size()), seed, gain, pan, q, &voice)) ==
             FK_RESULT_BUSY) {
        ++refused;
        std::this_thread::yield();
      }
      if (res == FK_RESULT_OK) {
        g_log.issue(voice);
        mine.push_back(voice);
      } else {
        ++bad;
      }
      if (!mine.empty() && r.next() % 3 == 0) {
        const fk_voice_id w = mine[r.next() % mine.size()];
        if (r.next() % 2) {
          if (fk_engine_stop(e, w, float(r.next() % 30)) == FK_RESULT_INVALID_ARGUMENT) ++bad;
        } else if (fk_engine_set_voice_gain(e, w, r.unit(), 2 * r.unit() - 1) == FK_RESULT_INVALID_ARGUMENT) {
          ++bad;
        }
      }
      // A refused call from a busy thread must not disturb the others.
      if (fk_engine_trigger(e, 7, nullptr, 0, 0, 1, 0, FK_ENGINE_QUALITY_AUTO, &voice) != FK_RESULT_INVALID_ARGUMENT)
        ++bad;
      // Pace like a game does (a stats condition, not a clock), so that under a slow build
      // the voices still get made and played rather than all cancelled while waiting.
      fk_engine_stats st;
      for (fk_engine_get_stats(e, &st); st.jobs_pending > 8; fk_engine_get_stats(e, &st)) std::this_thread::yield();
    }
  };

  std::thread ambiences([&] {
    Rng r{99};
    std::vector<float> v = adef;
    for (int k = 0; k < 4; ++k) {
      v[0] = float(k % 5);
      v[size_t(intensity)] = 0.2f;
      fk_voice_id voice = 0;
      fk_result res;
      while ((res = fk_engine_start(e, 1, v.data(), int32_t(v.size()), uint64_t(k), 1.0f, 0.0f,
                                    FK_ENGINE_QUALITY_AUTO, &voice)) == FK_RESULT_BUSY) {
        ++refused;
        std::this_thread::yield();
      }
      if (res != FK_RESULT_OK) {
        ++bad;
        continue;
      }
      g_log.issue(voice);
      for (int j = 0; j < 20; ++j) {
        v[size_t(intensity)] = r.unit();
        const fk_result sc = fk_engine_set_controls(e, voice, v.data(), int32_t(v.size()));
        if (sc != FK_RESULT_OK && sc != FK_RESULT_BUSY) ++bad;
        std::this_thread::yield();
      }
      // A full queue refuses the stop (nothing queued): a host tries again.
      fk_result sr;
      while ((sr = fk_engine_stop(e, voice, 20.0f)) == FK_RESULT_BUSY) std::this_thread::yield();
      if (sr != FK_RESULT_OK) ++bad;
    }
  });

  std::thread events([&] {
    fk_engine_event ev;
    fk_engine_stats st;
    for (int round = 0; !game_done.load() || round < 4; ++round) {
      // Alternate polling and the callback.
      if (round % 2 == 1) {
        if (fk_engine_set_event_callback(e, on_event, nullptr) != FK_RESULT_OK) ++bad;
      }
      for (int i = 0; i < 200; ++i) {
        while (fk_engine_poll_event(e, &ev)) g_log.event(ev);
        fk_engine_get_stats(e, &st);
        std::this_thread::yield();
      }
      if (round % 2 == 1) {
        if (fk_engine_set_event_callback(e, nullptr, nullptr) != FK_RESULT_OK) ++bad;
      }
    }
  });

  std::thread g1(game, 1), g2(game, 2);
  g1.join();
  g2.join();
  ambiences.join();
  game_done = true;
  events.join();
  audio.join();

  // Stop everything, then render until every voice has ended.
  std::vector<fk_voice_id> all;
  {
    std::lock_guard<std::mutex> lock(g_log.mu);
    all = g_log.issued;
  }
  std::vector<float> buf(2 * 256);
  for (fk_voice_id v : all) {
    // The queue may be full (nobody renders now): let the audio side drain it, then retry.
    fk_result sr;
    while ((sr = fk_engine_stop(e, v, 1.0f)) == FK_RESULT_BUSY) fk_engine_render(e, buf.data(), 256);
    if (sr != FK_RESULT_OK) ++bad;
  }
  // A backlog of triggers may hold every voice slot, and only render frees slots, so sync
  // is not waited on here: render until the engine reports nothing left.
  fk_engine_stats st;
  int left = 1;
  for (int b = 0; b < 200000 && left; ++b) {
    fk_engine_sync(e, 20);
    fk_engine_get_stats(e, &st);
    left = st.jobs_pending != 0 || st.voices_ready != 0 || st.voices_playing != 0;
    fk_engine_render(e, buf.data(), 256);
  }
  CHECK_EQ(left, 0);
  fk_engine_event ev;
  while (fk_engine_poll_event(e, &ev)) g_log.event(ev);
  fk_engine_get_stats(e, &st);

  int never = 0, twice = 0;
  for (fk_voice_id v : all) {
    const int n = g_log.ended[v];
    never += n == 0;
    twice += n > 1;
  }
  std::printf("  %zu voices (%d calls refused and retried: queue full), %llu started, %llu stolen, %llu ended, "
              "%ld events, %llu underruns, %llu overloads\n",
              all.size(), refused.load(), (unsigned long long)st.voices_started,
              (unsigned long long)st.voices_stolen, (unsigned long long)st.voices_ended, g_log.events,
              (unsigned long long)st.underruns, (unsigned long long)st.overloads);
  CHECK_EQ(bad.load(), 0);
  CHECK_EQ(all.size(), 2 * 60 + 4);
  CHECK_EQ(never, 0);
  CHECK_EQ(twice, 0);
  CHECK_EQ(st.voices_ended, all.size());
  CHECK_EQ(st.events_dropped, 0);
  CHECK_EQ(st.voices_playing, 0);
  fk_engine_destroy(e);
  return fk_check_summary("test_engine_stress");
}

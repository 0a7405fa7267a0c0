#include "engine/worker.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dsp/error.hpp"

namespace fk::engine {

namespace {

using Clock = std::chrono::steady_clock;

// The clip's last samples fade out: the iSTFT is cut at frames * hop, which may fall inside
// the last frame's window.
constexpr float kClipEndFadeSeconds = 0.002f;

}  // namespace

Worker::Worker(Shared& shared, int index)
    : s_(shared),
      index_(index),
      commands_(size_t(shared.config.command_capacity)),
      // Room for every slot's Activate plus a queue's worth of stops and gain changes.
      to_audio_(size_t(shared.slot_total + shared.config.command_capacity)),
      waiting_(size_t(shared.config.command_capacity)) {
  ambiences_.reserve(size_t(shared.slot_total));
}

Worker::~Worker() { stop(); }

void Worker::start() { thread_ = std::thread([this] { run(); }); }

void Worker::stop() {
  quit_.store(true, std::memory_order_release);
  wake_.notify();
  if (thread_.joinable()) thread_.join();
  ambiences_.clear();  // their sessions and synths, on the thread that destroys the engine
}

void Worker::run() {
  while (!quit_.load(std::memory_order_acquire)) {
    const uint64_t request = s_.sync_request.load(std::memory_order_acquire);
    const auto t0 = Clock::now();
    // Order of service: commands (cheap, and stops must not wait), rings about to run dry,
    // one new voice, then topping up the other rings.
    bool worked = reserve_new_models();
    worked |= drain_commands();
    worked |= reclaim();
    worked |= refill(true);
    worked |= prepare_next();
    if (!worked) worked = refill(false);
    if (index_ == 0) worked |= dispatch_events();
    if (worked) {
      s_.counters.worker_busy_ns.fetch_add(
          uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()),
          std::memory_order_relaxed);
      continue;
    }
    // Idle: every command taken, every job prepared, every ring full.
    if (waiting_count_ == 0 && commands_.size_approx() == 0 &&
        sync_ack_.load(std::memory_order_relaxed) != request) {
      sync_ack_.store(request, std::memory_order_release);
      s_.wake_sync_waiters();
    }
    // Rings drain and slots are released by the audio thread, which never signals: poll
    // often while there is something to watch.
    const bool watch = !ambiences_.empty() || waiting_count_ > 0 ||
                       (index_ == 0 && s_.callback.armed.load(std::memory_order_relaxed));
    wake_.wait_for(std::chrono::microseconds(watch ? 1000 : 50000));
  }
}

bool Worker::reserve_new_models() {
  const int count = s_.model_count.load(std::memory_order_acquire);
  if (count == reserved_models_) return false;
  // Grow the one-shot buffers for models added since the last look, before their first
  // trigger arrives, so that trigger does not pay for the allocation (about 3 MB at the
  // default settings). A failure here is not an error: prepare_oneshot tries again.
  for (int id = reserved_models_; id < count; ++id) {
    const ModelEntry* m = s_.model(id);
    if (!m || m->step) continue;
    try {
      const size_t need = size_t(m->max_frames) * size_t(m->n_mels);
      if (mel_.size() < need) mel_.resize(need);
      synth_ws_.reserve(*m->synth, m->max_frames);
      // One clip made and thrown away, so that the first trigger finds the model's weights,
      // this worker's session and the synthesis scratch warm (cold, it took 1.7 ms to be
      // ready instead of 0.5). Sessions keep nothing from one clip to the next.
      int frames = 0;
      model::Session& session = *m->sessions[size_t(index_)];
      if (session.generate(nullptr, 0, 0, mel_.data(), m->max_frames, &frames) == Status::Ok && frames > 0) {
        std::vector<float> clip(size_t(frames) * size_t(m->hop));
        m->synth->synthesize_into(mel_.data(), m->n_mels, frames, 1, m->n_mels, dsp::SpecKind::LogMel,
                                  s_.config.tiers[int(s_.config.default_quality) - 1].oneshot, 0, 0,
                                  int64_t(clip.size()), clip.data(), synth_ws_);
      }
    } catch (...) {
    }
  }
  reserved_models_ = count;
  reserved_published_.store(count, std::memory_order_release);
  s_.wake_sync_waiters();
  return true;
}

void Worker::send(const AudioMessage& m) noexcept {
  // Only this worker pushes to to_audio_ and it checked audio_room() first, so this fits.
  to_audio_.try_push(m);
}

Command* Worker::find_waiting(VoiceId v) noexcept {
  for (size_t i = 0; i < waiting_count_; ++i) {
    Command& c = waiting_[(waiting_head_ + i) % waiting_.size()];
    if (c.voice == v && !c.cancelled) return &c;
  }
  return nullptr;
}

Worker::Ambience* Worker::find_ambience(VoiceId v) noexcept {
  for (Ambience& a : ambiences_)
    if (a.voice == v) return &a;
  return nullptr;
}

bool Worker::drain_commands() {
  bool worked = false;
  Command c;
  // Stop taking commands while the waiting list or the audio queue is full: the game
  // thread's queue then fills and trigger reports it, instead of anything being dropped.
  while (waiting_count_ < waiting_.size() && audio_room() && commands_.try_pop(c)) {
    worked = true;
    switch (c.type) {
      case CommandType::Trigger:
      case CommandType::Start:
        waiting_[(waiting_head_ + waiting_count_++) % waiting_.size()] = c;
        break;
      case CommandType::SetControls:
        if (Ambience* a = find_ambience(c.voice)) {
          a->producer->set_target(c.values);
        } else if (Command* w = find_waiting(c.voice)) {
          w->n_values = c.n_values;
          std::memcpy(w->values, c.values, sizeof c.values);
        }
        break;
      case CommandType::SetGain:
        if (Command* w = find_waiting(c.voice)) {
          w->gain = c.gain;
          w->pan = c.pan;
        } else {
          AudioMessage m;
          m.type = AudioMsgType::SetGain;
          m.voice = c.voice;
          m.gain = c.gain;
          m.pan = c.pan;
          send(m);
        }
        break;
      case CommandType::Stop:
        if (Command* w = find_waiting(c.voice)) {  // never prepared: it just ends
          w->cancelled = true;
          s_.counters.jobs_pending.fetch_sub(1, std::memory_order_acq_rel);
          s_.counters.ended.fetch_add(1, std::memory_order_relaxed);
          s_.emit(EventType::VoiceEnded, w->voice, w->model);
        } else {
          AudioMessage m;
          m.type = AudioMsgType::Stop;
          m.voice = c.voice;
          m.fade_samples = int64_t(std::llround(double(c.fade_ms) * s_.config.sample_rate / 1000.0));
          send(m);
        }
        break;
    }
  }
  return worked;
}

bool Worker::reclaim() {
  bool worked = false;
  for (size_t i = 0; i < ambiences_.size();) {
    Slot& slot = s_.slots[size_t(ambiences_[i].slot)];
    if (slot.state.load(std::memory_order_acquire) == int(SlotState::Released)) {
      ambiences_[i] = std::move(ambiences_.back());
      ambiences_.pop_back();  // frees the producer: its session and synth
      slot.state.store(int(SlotState::Free), std::memory_order_release);
      worked = true;
    } else {
      ++i;
    }
  }
  return worked;
}

bool Worker::refill(bool urgent_only) {
  bool worked = false;
  for (Ambience& a : ambiences_) {
    if (a.failed) continue;
    Slot& slot = s_.slots[size_t(a.slot)];
    if (slot.state.load(std::memory_order_acquire) == int(SlotState::Released)) continue;
    SampleRing& ring = slot.ring;
    if (urgent_only && ring.readable() >= ring.capacity() / 2) continue;
    if (ring.writable() < size_t(a.producer->batch_samples())) continue;
    worked = true;
    if (a.producer->produce(ring) != Status::Ok) {
      // Should not happen (controls were validated); the voice fades out instead of
      // underrunning forever.
      a.failed = true;
      s_.emit(EventType::VoiceFailed, a.voice, voice_model(a.voice));
      AudioMessage m;
      m.type = AudioMsgType::Stop;
      m.voice = a.voice;
      m.fade_samples = s_.config.sample_rate / 100;
      if (audio_room()) send(m);
      continue;
    }
    s_.counters.ambience_frames.fetch_add(uint64_t(a.producer->batch_frames()), std::memory_order_relaxed);
  }
  return worked;
}

int Worker::claim_slot() noexcept {
  const int n = s_.slot_total;
  for (int k = 0; k < n; ++k) {
    const int i = (next_slot_ + k) % n;
    int expected = int(SlotState::Free);
    if (s_.slots[size_t(i)].state.compare_exchange_strong(expected, int(SlotState::Preparing),
                                                          std::memory_order_acq_rel)) {
      next_slot_ = (i + 1) % n;
      return i;
    }
  }
  return -1;
}

const Tier& Worker::pick_tier(const Command& c) {
  const Config& cfg = s_.config;
  Quality q = c.quality == Quality::Auto ? cfg.default_quality : c.quality;
  if (c.quality == Quality::Auto && c.gain < cfg.quiet_gain) q = Quality::Low;  // too quiet to tell
  const size_t behind = backlog();
  const bool overloaded = behind > size_t(cfg.overload_backlog);
  if (overloaded && q != Quality::Low) {
    q = Quality::Low;
    s_.counters.overloads.fetch_add(1, std::memory_order_relaxed);
    if (!overload_reported_) s_.emit(EventType::Overload, 0, -1, int64_t(behind));
    overload_reported_ = true;
  }
  if (!overloaded) overload_reported_ = false;
  return cfg.tiers[int(q) - 1];
}

bool Worker::prepare_next() {
  while (waiting_count_ > 0 && waiting_[waiting_head_].cancelled) {
    waiting_head_ = (waiting_head_ + 1) % waiting_.size();
    --waiting_count_;
  }
  if (waiting_count_ == 0 || !audio_room()) return false;
  const int slot = claim_slot();
  if (slot < 0) return false;  // every slot busy: wait for the audio thread to free one
  const Command c = waiting_[waiting_head_];
  waiting_head_ = (waiting_head_ + 1) % waiting_.size();
  --waiting_count_;
  const ModelEntry* m = s_.model(c.model);
  if (!m) {
    fail_job(c, slot, "unknown model");
  } else if (m->step) {
    prepare_ambience(c, slot, *m);
  } else {
    prepare_oneshot(c, slot, *m);
  }
  return true;
}

void Worker::fail_job(const Command& c, int slot, const char* /*why*/) {
  s_.slots[size_t(slot)].state.store(int(SlotState::Free), std::memory_order_release);
  s_.counters.jobs_pending.fetch_sub(1, std::memory_order_acq_rel);
  s_.counters.ended.fetch_add(1, std::memory_order_relaxed);
  s_.emit(EventType::VoiceFailed, c.voice, c.model);
  s_.emit(EventType::VoiceEnded, c.voice, c.model);
}

// Fills in the slot and posts Activate (the queue's release publishes the fields).
void Worker::hand_over(const Command& c, int si, VoiceKind kind, float peak, int64_t length) noexcept {
  Slot& slot = s_.slots[size_t(si)];
  slot.voice = c.voice;
  slot.model = c.model;
  slot.kind = kind;
  slot.gain = c.gain;
  slot.pan = c.pan;
  slot.peak = peak;
  slot.length = length;
  slot.issued_ns = c.issued_ns;
  slot.state.store(int(SlotState::Ready), std::memory_order_relaxed);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          Clock::now().time_since_epoch()).count();
  s_.counters.ready_latency_ns.fetch_add(uint64_t(std::max<int64_t>(0, now - c.issued_ns)),
                                         std::memory_order_relaxed);
  AudioMessage msg;
  msg.type = AudioMsgType::Activate;
  msg.slot = si;
  s_.counters.ready.fetch_add(1, std::memory_order_relaxed);
  send(msg);
}

void Worker::prepare_oneshot(const Command& c, int si, const ModelEntry& m) {
  Slot& slot = s_.slots[size_t(si)];
  const Tier& tier = pick_tier(c);
  const size_t need = size_t(m.max_frames) * size_t(m.n_mels);
  int frames = 0;
  size_t n = 0, fade = 0;
  // A long clip starts playing as soon as its first part is made (PGHI's first block: about
  // a quarter of the work, and 75 ms of sound or more), while this worker makes the rest:
  // the latency a game hears is that part's. The samples are the same either way.
  struct Early {
    Worker* w;
    const Command* c;
    int si;
    size_t limit, length;  // the end fade's samples are written last: never early
    bool sent;
  } early{this, &c, si, 0, 0, false};
  dsp::SynthProgress progress;
  progress.user = &early;
  progress.fn = [](void* user, int64_t samples_final) {
    Early& e = *static_cast<Early*>(user);
    const size_t ready = std::min(size_t(samples_final), e.limit);
    if (ready == 0) return;
    Slot& s = e.w->s_.slots[size_t(e.si)];
    float peak = 0.0f;
    for (size_t i = 0; i < ready; ++i) peak = std::max(peak, std::fabs(s.pcm[i]));
    s.ready.store(int64_t(ready), std::memory_order_relaxed);
    s.writer.store(1, std::memory_order_relaxed);
    e.w->hand_over(*e.c, e.si, VoiceKind::OneShot, peak, int64_t(e.length));
    e.w->s_.counters.oneshots_early.fetch_add(1, std::memory_order_relaxed);
    e.sent = true;
  };
  try {
    if (mel_.size() < need) mel_.resize(need);
    synth_ws_.reserve(*m.synth, m.max_frames);
    const Status st = m.sessions[size_t(index_)]->generate(c.n_values ? c.values : nullptr, c.n_values,
                                                           c.seed, mel_.data(), m.max_frames, &frames);
    if (st != Status::Ok) return fail_job(c, si, m.sessions[size_t(index_)]->last_error());
    // The same call as Runtime.render (Synthesizer::synthesize wraps synthesize_into), so the
    // engine plays the samples Python renders; written straight into the slot. A length cut
    // to the slot only drops the tail: the samples before it do not depend on the length.
    n = std::min(size_t(frames) * size_t(m.hop), slot.capacity);
    fade = std::min(n, size_t(kClipEndFadeSeconds * float(s_.config.sample_rate)));
    early.limit = n - fade;
    early.length = n;
    m.synth->synthesize_into(mel_.data(), m.n_mels, frames, 1, m.n_mels, dsp::SpecKind::LogMel,
                             tier.oneshot, tier.gl_iterations, c.seed, int64_t(n), slot.pcm.get(),
                             synth_ws_, progress);
  } catch (...) {
    if (!early.sent) return fail_job(c, si, "synthesis failed");
    // Already playing: what was not made stays silent, and the voice ends after it.
    std::fill(slot.pcm.get() + slot.ready.load(std::memory_order_relaxed), slot.pcm.get() + n, 0.0f);
    s_.emit(EventType::VoiceFailed, c.voice, c.model);
  }
  for (size_t i = 0; i < fade; ++i) slot.pcm[n - 1 - i] *= float(i) / float(fade);
  // Peak from each chunk to the end, by a backwards running maximum.
  float peak = 0.0f;
  for (size_t k = (n + kEnvelopeChunk - 1) / kEnvelopeChunk; k-- > 0;) {
    for (size_t i = k * kEnvelopeChunk; i < std::min(n, (k + 1) * kEnvelopeChunk); ++i)
      peak = std::max(peak, std::fabs(slot.pcm[i]));
    slot.remaining_peak[k] = peak;
  }
  if (!early.sent) {
    slot.ready.store(int64_t(n), std::memory_order_relaxed);
    hand_over(c, si, VoiceKind::OneShot, peak, int64_t(n));
  } else {
    slot.ready.store(int64_t(n), std::memory_order_release);
    int writing = 1;
    if (!slot.writer.compare_exchange_strong(writing, 0, std::memory_order_acq_rel)) {
      // The voice ended (stopped, stolen) before it was finished: the slot is ours to free.
      slot.writer.store(0, std::memory_order_relaxed);
      slot.state.store(int(SlotState::Free), std::memory_order_release);
    }
  }
  s_.counters.oneshots_rendered.fetch_add(1, std::memory_order_relaxed);
  s_.counters.jobs_pending.fetch_sub(1, std::memory_order_acq_rel);
}

void Worker::prepare_ambience(const Command& c, int si, const ModelEntry& m) {
  Slot& slot = s_.slots[size_t(si)];
  const Tier& tier = pick_tier(c);
  const int smoothing = int(std::ceil(double(s_.config.control_smoothing_ms) / 1000.0 *
                                      s_.config.sample_rate / m.hop));
  Ambience a;
  a.voice = c.voice;
  a.slot = si;
  try {
    a.producer = std::make_unique<AmbienceProducer>(m, tier, c.n_values ? c.values : nullptr, c.seed,
                                                    smoothing);
    ambiences_.reserve(ambiences_.size() + 1);
  } catch (...) {
    return fail_job(c, si, "cannot create the ambience stream");
  }
  // Full ring before it plays: the first blocks never underrun, and the voice's samples do
  // not depend on when the audio thread first asks for them.
  slot.ring.attach(slot.pcm.get(), std::min(slot.capacity, size_t(s_.config.ambience_buffer_samples)));
  float peak = 0.0f;
  while (slot.ring.writable() >= size_t(a.producer->batch_samples())) {
    if (a.producer->produce(slot.ring, &peak) != Status::Ok)
      return fail_job(c, si, "the ambience stream failed");
    s_.counters.ambience_frames.fetch_add(uint64_t(a.producer->batch_frames()), std::memory_order_relaxed);
  }
  ambiences_.push_back(std::move(a));
  hand_over(c, si, VoiceKind::Ambience, peak, 0);
  s_.counters.jobs_pending.fetch_sub(1, std::memory_order_acq_rel);
}

bool Worker::dispatch_events() {
  CallbackHub& hub = s_.callback;
  if (!hub.armed.load(std::memory_order_acquire)) return false;
  std::lock_guard<std::mutex> lock(hub.mu);
  if (!hub.fn) return false;
  bool any = false;
  Event e;
  while (s_.events.try_pop(e)) {
    hub.fn(e, hub.user);
    any = true;
  }
  return any;
}

}  // namespace fk::engine

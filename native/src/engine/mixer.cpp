#include "engine/mixer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace fk::engine {

Mixer::Mixer(Shared& shared, std::vector<MpmcQueue<AudioMessage>*> inboxes)
    : s_(shared), inbox_(std::move(inboxes)), voices_(size_t(shared.slot_total)),
      src_(size_t(shared.config.max_block_frames)) {
  const double sr = shared.config.sample_rate;
  gain_ramp_ = int64_t(sr * 0.005);    // set_voice_gain glides 5 ms: no zipper noise
  steal_fade_ = int64_t(sr * 0.010);   // a stolen voice fades in 10 ms: no click, room soon
  min_fade_ = int64_t(sr * 0.001);     // even stop(fade 0) ramps over 1 ms
  starve_fade_ = std::max<int64_t>(16, int64_t(sr * 0.001));  // underrun edges
}

Status Mixer::render(float* out, int frames) noexcept {
  if (frames < 0 || (frames > 0 && !out)) return Status::InvalidArgument;
  // One audio thread at a time; a second caller is refused, never blocked.
  if (busy_.exchange(true, std::memory_order_acquire)) return Status::Unsupported;
  const int max = s_.config.max_block_frames, ch = s_.config.channels;
  while (frames > 0) {
    const int n = std::min(frames, max);
    pass(out, n);
    out += size_t(n) * size_t(ch);
    frames -= n;
  }
  busy_.store(false, std::memory_order_release);
  return Status::Ok;
}

void Mixer::pass(float* out, int n) noexcept {
  take_messages();
  std::memset(out, 0, sizeof(float) * size_t(n) * size_t(s_.config.channels));
  int active = 0;
  for (size_t i = 0; i < voices_.size(); ++i) {
    AudioVoice& v = voices_[i];
    if (!v.active) continue;
    ++active;
    source(v, int(i), n);
    mix(v, s_.slots[i], out, n);
    const bool done = (v.kind == VoiceKind::OneShot && v.pos >= v.length) ||
                      (v.releasing && !v.env.moving() && v.env.value == 0.0f);
    if (done) finish(int(i));
  }
  s_.counters.frames_rendered.fetch_add(uint64_t(n), std::memory_order_relaxed);
  s_.counters.playing.store(active, std::memory_order_relaxed);
}

void Mixer::take_messages() noexcept {
  AudioMessage m;
  for (MpmcQueue<AudioMessage>* q : inbox_) {
    while (q->try_pop(m)) {
      switch (m.type) {
        case AudioMsgType::Activate:
          activate(m.slot);
          break;
        case AudioMsgType::SetGain:
          if (AudioVoice* v = find(m.voice)) set_gains(*v, m.gain, m.pan, false);
          break;
        case AudioMsgType::Stop:
          if (AudioVoice* v = find(m.voice)) release(*v, std::max(m.fade_samples, min_fade_));
          break;
      }
    }
  }
}

AudioVoice* Mixer::find(VoiceId id) noexcept {
  for (AudioVoice& v : voices_)
    if (v.active && v.voice == id) return &v;
  return nullptr;
}

// Voice stealing order: one-shots before ambiences (a bed that vanishes is heard far more
// than a quiet hit that never plays), then the quietest.
bool Mixer::yields_to(const AudioVoice& a, const AudioVoice& b) noexcept {
  const bool amb_a = a.kind == VoiceKind::Ambience, amb_b = b.kind == VoiceKind::Ambience;
  if (amb_a != amb_b) return amb_b;
  return a.level <= b.level;
}

AudioVoice* Mixer::quietest_audible(int except) noexcept {
  AudioVoice* best = nullptr;
  for (size_t i = 0; i < voices_.size(); ++i) {
    AudioVoice& v = voices_[i];
    if (int(i) == except || !v.active || v.releasing) continue;
    if (!best || !yields_to(*best, v)) best = &v;
  }
  return best;
}

void Mixer::set_gains(AudioVoice& v, float gain, float pan, bool immediate) noexcept {
  float l = gain, r = 0.0f;
  if (s_.config.channels == 2) {
    // Constant power: -3 dB per side at the centre, the same loudness anywhere.
    const float theta = (std::min(std::max(pan, -1.0f), 1.0f) + 1.0f) * 0.785398163f;
    l = gain * std::cos(theta);
    r = gain * std::sin(theta);
  }
  if (immediate) {
    v.left.jump(l);
    v.right.jump(r);
  } else {
    v.left.go(l, gain_ramp_);
    v.right.go(r, gain_ramp_);
  }
}

void Mixer::activate(int si) noexcept {
  Slot& slot = s_.slots[size_t(si)];
  AudioVoice& v = voices_[size_t(si)];
  v = AudioVoice();
  v.active = true;
  v.voice = slot.voice;
  v.model = slot.model;
  v.kind = slot.kind;
  v.length = slot.length;
  v.env.jump(1.0f);
  set_gains(v, slot.gain, slot.pan, true);  // no ramp: the first sample is already right
  v.level = slot.peak * std::max(v.left.value, v.right.value);
  slot.state.store(int(SlotState::Playing), std::memory_order_relaxed);
  s_.counters.ready.fetch_sub(1, std::memory_order_relaxed);

  if (audible_ >= s_.config.max_voices) {
    AudioVoice* q = quietest_audible(si);
    if (!q || yields_to(v, *q)) {  // the newcomer is the one to go: it never sounds
      s_.counters.stolen.fetch_add(1, std::memory_order_relaxed);
      s_.emit(EventType::VoiceStolen, v.voice, v.model);
      v.releasing = true;  // not counted as audible
      finish(si);
      return;
    }
    s_.counters.stolen.fetch_add(1, std::memory_order_relaxed);
    s_.emit(EventType::VoiceStolen, q->voice, q->model);
    release(*q, steal_fade_);
  }
  ++audible_;
  s_.counters.started.fetch_add(1, std::memory_order_relaxed);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  s_.emit(EventType::VoiceStarted, v.voice, v.model, (now - slot.issued_ns) / 1000);
}

void Mixer::release(AudioVoice& v, int64_t fade) noexcept {
  if (!v.releasing) {
    v.releasing = true;
    --audible_;
  } else if (v.env.left <= fade) {
    return;  // already fading out at least this fast
  }
  v.env.go(0.0f, fade);
}

void Mixer::finish(int si) noexcept {
  AudioVoice& v = voices_[size_t(si)];
  if (!v.releasing) --audible_;
  v.active = false;
  s_.counters.ended.fetch_add(1, std::memory_order_relaxed);
  s_.emit(EventType::VoiceEnded, v.voice, v.model);
  // A one-shot's buffer is free at once, unless its worker is still writing it (that worker
  // frees it when done); an ambience's stream state goes back to its worker.
  Slot& slot = s_.slots[size_t(si)];
  if (v.kind == VoiceKind::OneShot) {
    int writing = 1;
    if (slot.writer.compare_exchange_strong(writing, 2, std::memory_order_acq_rel)) return;
  }
  slot.state.store(int(v.kind == VoiceKind::Ambience ? SlotState::Released : SlotState::Free),
                   std::memory_order_release);
}

// Fills src_[0, n) with the voice's next samples (zeros past its end); returns how many
// were real.
int Mixer::source(AudioVoice& v, int si, int n) noexcept {
  float* src = src_.data();
  Slot& slot = s_.slots[size_t(si)];
  int got;
  bool dry;
  if (v.kind == VoiceKind::OneShot) {
    int64_t avail = v.length;
    if (!v.complete) {  // still being made: only what its worker has finished
      avail = std::min(v.length, slot.ready.load(std::memory_order_acquire));
      v.complete = avail == v.length;
    }
    got = int(std::min<int64_t>(n, avail - v.pos));
    std::memcpy(src, slot.pcm.get() + v.pos, sizeof(float) * size_t(got));
    v.pos += got;
    dry = got < n && v.pos < v.length;  // its worker is behind (stalled for tens of ms)
  } else {
    got = int(slot.ring.read(src, size_t(n)));
    dry = got < n;
  }
  const bool was_starved = v.starved;
  const int edge = int(std::min<int64_t>(starve_fade_, got));
  if (was_starved && got > 0)  // data is back: fade in rather than jump
    for (int i = 0; i < edge; ++i) src[i] *= float(i) / float(edge);
  if (dry) {
    // Ran dry: the samples we have fade out, then silence. Counted once per dry spell.
    if (!was_starved || got > 0) {
      for (int i = 0; i < edge; ++i) src[got - 1 - i] *= float(i) / float(edge);
      ++v.underruns;
      s_.counters.underruns.fetch_add(1, std::memory_order_relaxed);
      s_.emit(EventType::Underrun, v.voice, v.model, v.underruns);
    }
    v.starved = true;
  } else {
    v.starved = false;
  }
  std::memset(src + got, 0, sizeof(float) * size_t(n - got));
  return got;
}

void Mixer::mix(AudioVoice& v, const Slot& slot, float* out, int n) noexcept {
  const float* src = src_.data();
  // Loudness for voice stealing: a one-shot's peak still to come (its attack may be over),
  // an ambience's (steady) last block.
  float peak = 0.0f;
  if (v.kind == VoiceKind::OneShot) {
    // Until its worker is done, the peak of the part made first (an attack's loudest).
    if (v.pos < v.length) peak = v.complete ? slot.remaining_peak[size_t(v.pos / kEnvelopeChunk)] : slot.peak;
  } else {
    for (int i = 0; i < n; ++i) peak = std::max(peak, std::fabs(src[i]));
  }
  const bool stereo = s_.config.channels == 2;
  if (!v.left.moving() && !v.right.moving() && !v.env.moving()) {
    // Steady gains: a plain multiply-add the compiler vectorises.
    const float l = v.left.value * v.env.value, r = v.right.value * v.env.value;
    if (stereo) {
      for (int i = 0; i < n; ++i) {
        out[2 * i] += src[i] * l;
        out[2 * i + 1] += src[i] * r;
      }
    } else {
      for (int i = 0; i < n; ++i) out[i] += src[i] * l;
    }
    v.level = peak * std::max(l, r);
    return;
  }
  float gmax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float e = v.env.next(), l = v.left.next() * e, r = v.right.next() * e;
    gmax = std::max(gmax, std::max(l, r));
    if (stereo) {
      out[2 * i] += src[i] * l;
      out[2 * i + 1] += src[i] * r;
    } else {
      out[i] += src[i] * l;
    }
  }
  v.level = peak * gmax;
}

}  // namespace fk::engine

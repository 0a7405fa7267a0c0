#include "engine/config.hpp"

#include <cmath>
#include <string>

#include "dsp/error.hpp"

namespace fk::engine {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(Status::InvalidArgument, "engine config: " + what);
}

}  // namespace

void validate(const Config& c) {
  require(c.sample_rate >= 8000 && c.sample_rate <= 384000, "sample_rate must be in [8000, 384000]");
  require(c.channels == 1 || c.channels == 2, "channels must be 1 or 2");
  require(c.max_block_frames >= 1 && c.max_block_frames <= 16384, "max_block_frames must be in [1, 16384]");
  require(c.max_voices >= 1 && c.max_voices <= 1024, "max_voices must be in [1, 1024]");
  require(c.worker_threads >= 1 && c.worker_threads <= 16, "worker_threads must be in [1, 16]");
  require(std::isfinite(c.max_clip_seconds) && c.max_clip_seconds > 0.0f && c.max_clip_seconds <= 60.0f,
          "max_clip_seconds must be in (0, 60]");
  require(c.ambience_buffer_samples >= 1024 && c.ambience_buffer_samples <= (1 << 20),
          "ambience_buffer_samples must be in [1024, 2^20]");
  require(c.command_capacity >= 4 && c.command_capacity <= 65536, "command_capacity must be in [4, 65536]");
  require(c.event_capacity >= 4 && c.event_capacity <= (1 << 20), "event_capacity must be in [4, 2^20]");
  require(c.max_models >= 1 && c.max_models <= 4096, "max_models must be in [1, 4096]");
  require(std::isfinite(c.control_smoothing_ms) && c.control_smoothing_ms >= 0.0f &&
              c.control_smoothing_ms <= 10000.0f, "control_smoothing_ms must be in [0, 10000]");
  require(std::isfinite(c.quiet_gain) && c.quiet_gain >= 0.0f, "quiet_gain must be >= 0");
  require(c.overload_backlog >= 0, "overload_backlog must be >= 0");
  require(c.default_quality >= Quality::Low && c.default_quality <= Quality::High,
          "default_quality must be Low, Medium or High");
  for (int i = 0; i < kTierCount; ++i) {
    const Tier& t = c.tiers[i];
    require(int(t.oneshot) >= 0 && int(t.oneshot) <= 3, "tiers[" + std::to_string(i) + "]: unknown phase method");
    require(t.gl_iterations >= 0 && t.gl_iterations <= 1000,
            "tiers[" + std::to_string(i) + "]: gl_iterations must be in [0, 1000]");
    require(t.ambience == dsp::StreamMethod::Rtpghi || t.ambience == dsp::StreamMethod::Random,
            "tiers[" + std::to_string(i) + "]: unknown stream method");
  }
}

}  // namespace fk::engine

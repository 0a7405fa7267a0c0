// The model runtime on the shipped default models through the C++ core (so .ci/sanitize runs
// it under ASan/UBSan): load, generate, stream, determinism, and damaged files — every kind of
// truncation and bit flip refused, and with the checksum check off (as if a corruption had
// slipped past it) every architecture check still refuses or yields a working model, never a
// crash. argv[1]: the folder holding oneshots.fkm and ambiences.fkm.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "check.h"
#include "model/model.hpp"
#include "model/model_file.hpp"

using namespace fk;
using namespace fk::model;

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// Runs one inference of whatever `m` is; checks the output is finite.
void exercise(const Model& m) {
  auto s = m.create_session();
  const ModelInfo& i = m.info();
  std::vector<float> out(size_t(std::max(i.max_frames, 4)) * i.n_mels);
  if (i.mode == Mode::OneShot) {
    int frames = 0;
    CHECK(s->generate(nullptr, 0, 1, out.data(), i.max_frames, &frames) == Status::Ok);
    CHECK(frames >= 1 && frames <= i.max_frames);
    bool finite = true;
    for (int k = 0; k < frames * i.n_mels; ++k) finite = finite && std::isfinite(out[size_t(k)]);
    CHECK(finite);
  } else {
    CHECK(s->stream_reset(nullptr, 0, 1) == Status::Ok);
    CHECK(s->stream_next(out.data(), 4) == Status::Ok);
    bool finite = true;
    for (int k = 0; k < 4 * i.n_mels; ++k) finite = finite && std::isfinite(out[size_t(k)]);
    CHECK(finite);
  }
}

void test_model(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  CHECK(bytes.size() > 1000);
  std::shared_ptr<const Model> m;
  try {
    m = Model::load(path);
  } catch (const Error& e) {
    std::printf("cannot load %s: %s\n", path.c_str(), e.what());
  }
  CHECK(m != nullptr);
  if (!m) return;
  exercise(*m);

  // Same seed, same frames; two sessions agree.
  auto a = m->create_session(), b = m->create_session();
  const ModelInfo& i = m->info();
  std::vector<float> x(size_t(std::max(i.max_frames, 8)) * i.n_mels), y = x;
  if (i.mode == Mode::OneShot) {
    int fx = 0, fy = 0;
    a->generate(nullptr, 0, 42, x.data(), i.max_frames, &fx);
    b->generate(nullptr, 0, 42, y.data(), i.max_frames, &fy);
    CHECK(fx == fy && x == y);
  } else {
    a->stream_reset(nullptr, 0, 42);
    b->stream_reset(nullptr, 0, 42);
    a->stream_next(x.data(), 8);
    for (int k = 0; k < 8; ++k) b->stream_next(y.data() + size_t(k) * i.n_mels, 1);
    CHECK(x == y);
  }

  // Step models: the controls a frame is made with are the ones set last before it. Setting
  // the controls the stream already has, or others and back again, changes nothing (the
  // relative form rebuilds its key/value rings on a change: the rebuild must land exactly
  // where the stream was).
  if (i.mode == Mode::Step) {
    const int n = int(m->controls().size());
    std::vector<float> v0(size_t(n) + 1), v1;
    m->default_controls(v0.data());
    v1 = v0;
    for (int k = 0; k < n; ++k) {  // another valid value for every control
      const ControlInfo& c = m->controls()[size_t(k)];
      v1[size_t(k)] = c.categorical ? float((int(v0[size_t(k)]) + 1) % c.width)
                                    : float(c.low + 0.25 * (c.high - c.low));
    }
    a->stream_reset(v0.data(), n, 7);
    b->stream_reset(v0.data(), n, 7);
    a->stream_next(x.data(), 8);
    b->stream_next(y.data(), 3);
    CHECK(b->stream_set_controls(v0.data(), n) == Status::Ok);
    CHECK(b->stream_set_controls(v1.data(), n) == Status::Ok);
    CHECK(b->stream_set_controls(v0.data(), n) == Status::Ok);
    b->stream_next(y.data() + size_t(3) * i.n_mels, 5);
    CHECK(x == y);
    CHECK(b->stream_set_controls(v1.data(), n) == Status::Ok);
    b->stream_next(y.data(), 8);
    CHECK(x != y);
  }

  // Truncations: refused with ModelInvalid.
  int refused = 0, tried = 0;
  for (size_t cut = 0; cut < bytes.size(); cut += bytes.size() / 97 + 1) {
    ++tried;
    try {
      Model::load_memory(bytes.data(), cut);
    } catch (const Error& e) {
      refused += e.status() == Status::ModelInvalid;
    }
  }
  CHECK_EQ(refused, tried);

  // Bit flips: refused by the checksum; and with the checksum off, each flip either refused
  // by a later check or a model that still runs.
  int flips = 0, caught = 0, survived = 0;
  for (size_t pos = 8; pos < bytes.size(); pos += bytes.size() / 61 + 7) {
    std::vector<uint8_t> bad = bytes;
    bad[pos] ^= uint8_t(1u << (pos % 8));
    ++flips;
    try {
      Model::load_memory(bad.data(), bad.size());
    } catch (const Error& e) {
      caught += e.status() == Status::ModelInvalid;
    }
    ParseOptions loose;
    loose.verify_checksum = false;
    try {
      const ModelFile f = ModelFile::parse(bad.data(), bad.size(), loose);
      auto mm = Model::from_file(f);
      exercise(*mm);
      ++survived;
    } catch (const Error&) {
    }
  }
  CHECK_EQ(caught, flips);
  std::printf("  %s: %d truncations refused, %d bit flips refused (%d of them load and run "
              "without the checksum)\n", path.c_str(), refused, caught, survived);

  // The .onnx next to it is pointed at the .fkm.
  std::string onnx = path.substr(0, path.size() - 4) + ".onnx";
  try {
    Model::load(onnx);
    CHECK(false);
  } catch (const Error& e) {
    CHECK(e.status() == Status::Unsupported);
    CHECK(std::string(e.what()).find(".fkm") != std::string::npos);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: test_model_runtime MODEL_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  test_model(dir + "/oneshots.fkm");
  test_model(dir + "/ambiences.fkm");
  return fk_check_summary("model_runtime");
}

// libFuzzer target for the .fkm reader (model/model_file.hpp). Built by
// -DFOLEYKIT_BUILD_FUZZERS=ON with Clang and run by .ci/fuzz, on the seeds in fuzz_corpus/
// (written by make_fuzz_seeds.py) with the dictionary fuzz_model_file.dict.
//
// The reader's contract: on any bytes it either returns a valid ModelFile or throws fk::Error.
// Anything else -- another exception, a crash, a sanitizer report, a hang, a huge allocation
// -- is a bug that the fuzzer reports.
#include <algorithm>
#include <vector>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/model.hpp"
#include "model/model_file.hpp"

namespace {

// Reads everything a parsed file hands out, so that a pointer or size the reader got wrong
// shows up under AddressSanitizer here rather than later in a model.
float touch(const fk::model::ModelFile& f) {
  float sum = 0.0f;
  (void)f.meta().members().size();
  (void)f.architecture().members().size();
  for (const fk::model::Tensor& t : f.tensors()) {
    if (f.find(t.name) != &t) __builtin_trap();  // names are unique, so find must agree
    for (size_t k = 0; k < t.count; ++k) sum += t.data[k];
    if (t.count > 0 && reinterpret_cast<uintptr_t>(t.data) % fk::model::kAlign != 0)
      __builtin_trap();  // Tensor::data must be 64-byte aligned
  }
  return sum;
}

volatile float g_sink;

}  // namespace

// One input through the reader: without the checksum (so mutated files reach the JSON and
// tensor-table checks) and as an application would call it. A later step can build a model
// from the parsed file here.
static void fuzz_one(const uint8_t* data, size_t size) {
  for (const bool verify : {false, true}) {
    fk::model::ParseOptions opt;
    opt.verify_checksum = verify;
    try {
      const fk::model::ModelFile f = fk::model::ModelFile::parse(data, size, opt);
      g_sink = touch(f);
      // Past the container: the architecture checks, and one inference of whatever model
      // they accept (hostile hyper-parameters must be refused before anything is sized).
      const auto model = fk::model::Model::from_file(f);
      auto session = model->create_session();
      std::vector<float> out(size_t(std::max(model->info().max_frames, 2)) *
                             size_t(model->info().n_mels));
      int frames = 0;
      if (model->info().mode == fk::model::Mode::OneShot) {
        (void)session->generate(nullptr, 0, 1, out.data(), model->info().max_frames, &frames);
      } else if (session->stream_reset(nullptr, 0, 1) == fk::Status::Ok) {
        (void)session->stream_next(out.data(), 2);
      }
      for (float v : out) g_sink = g_sink + (v == v ? 0 : 1);
    } catch (const fk::Error&) {
      // Refused: the expected outcome for almost every input.
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_one(data, size);
  // The JSON parser alone on the raw bytes: inputs that do not carry a valid .fkm header
  // (most mutations) still exercise every path of the parser this way.
  try {
    (void)fk::model::Json::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const fk::Error&) {
  }
  return 0;
}

// Shared between the loader (model.cpp) and the two architectures.
#pragma once
#include <initializer_list>
#include <memory>
#include <set>
#include <string>

#include "model/model.hpp"
#include "model/model_file.hpp"

namespace fk::model {

[[noreturn]] void invalid(const std::string& what);
// The tensor's data after checking it exists with exactly this shape; records it as used.
const float* expect_tensor(const ModelFile& f, const std::string& name,
                           std::initializer_list<int64_t> shape, std::set<std::string>* used);
// Refuses a file that carries tensors its architecture does not use.
void refuse_unused(const ModelFile& f, const std::set<std::string>& used);

std::shared_ptr<const Model> make_clip_decoder(const ModelFile& file, Family family);
std::shared_ptr<const Model> make_causal_transformer(const ModelFile& file);

inline int round16(int n) { return (n + 15) / 16 * 16; }

}  // namespace fk::model

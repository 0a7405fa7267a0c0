// The C ABI's opaque handles that more than one source file opens (one definition, so the
// model_c.cpp and engine_c.cpp views of an fk_model cannot drift apart).
#pragma once
#include <memory>

#include "foleykit/foleykit.h"
#include "model/model.hpp"

struct fk_model {
  std::shared_ptr<const fk::model::Model> model;
};

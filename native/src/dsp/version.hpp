#pragma once
namespace fk {
// Keep in step with FK_VERSION_* in foleykit.h and pyproject.toml.
constexpr const char* kVersion = "0.1.0";
}  // namespace fk

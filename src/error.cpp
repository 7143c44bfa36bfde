#include "ranks/error.hpp"

#include <utility>

namespace ranks {

namespace {

std::string describe(const std::string& type, const std::string& message, int engine,
                     std::ptrdiff_t index) {
  std::string s = type + ": " + message + " (raised on engine " + std::to_string(engine);
  if (index >= 0) s += ", input index " + std::to_string(index);
  return s + ")";
}

}  // namespace

RemoteError::RemoteError(std::string type_name, std::string message, int engine_id,
                         std::ptrdiff_t index)
    : Error(describe(type_name, message, engine_id, index)),
      type_name_(std::move(type_name)),
      message_(std::move(message)),
      engine_id_(engine_id),
      index_(index) {}

}  // namespace ranks

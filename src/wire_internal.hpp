#pragma once

#include <string>

#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// A readable type name ("std::runtime_error").
std::string demangle(const char* name);
/// The exception being handled, as an engine reports it (call inside a catch block).
ErrorInfo current_error();
void encode_error(Writer& w, const ErrorInfo& e);

}  // namespace ranks::detail

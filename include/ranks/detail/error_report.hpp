#pragma once

// A failure that crosses the wire: captured on the engine, encoded after the reply's outcome,
// rebuilt on the controller as the ranks::RemoteError its job is failed with.

#include <cstddef>
#include <exception>
#include <string>

#include "ranks/detail/bytes.hpp"
#include "ranks/detail/wire.hpp"

namespace ranks::detail {

/// A readable type name ("std::runtime_error", "std::vector<double, ...>").
std::string demangle(const char* mangled);

/// What a failed task reports back.
struct ErrorInfo {
  std::string type_name;
  std::string message;
};

/// The exception being handled, as an engine reports it (call inside a catch block).
ErrorInfo current_error();
void encode_error(Writer& w, const ErrorInfo& e);

/// The ranks::RemoteError that a failed outcome stands for, its report read from payload. For
/// a map chunk starting at input index_base (>= 0), the error names the failing input index.
std::exception_ptr remote_error(const Outcome& o, Reader& payload, std::ptrdiff_t index_base = -1);

}  // namespace ranks::detail

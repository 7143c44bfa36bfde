#include "ranks/detail/error_report.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "ranks/detail/codec.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> s(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && s ? std::string(s.get()) : std::string(mangled);
}

ErrorInfo current_error() {
  ErrorInfo info;
  const std::type_info* type = abi::__cxa_current_exception_type();
  info.type_name = type ? demangle(type->name()) : "unknown exception";
  try {
    throw;
  } catch (const RemoteError& e) {
    info.message = e.message();
  } catch (const std::exception& e) {
    info.message = e.what();
  } catch (...) {
    info.message = "(an exception that is not a std::exception)";
  }
  return info;
}

void encode_error(Writer& w, const ErrorInfo& e) {
  encode(w, e.type_name);
  encode(w, e.message);
}

std::exception_ptr remote_error(const Outcome& o, Reader& payload, std::ptrdiff_t index_base) {
  ErrorInfo e;
  try {
    decode(payload, e.type_name);
    decode(payload, e.message);
  } catch (const Error&) {
    e.type_name = "ranks::Error";
    e.message = "a task failed and its error report was unreadable";
  }
  const std::ptrdiff_t index =
      index_base >= 0 ? index_base + std::max<std::ptrdiff_t>(o.failed_item, 0) : -1;
  return std::make_exception_ptr(RemoteError(e.type_name, e.message, o.engine, index));
}

}  // namespace ranks::detail

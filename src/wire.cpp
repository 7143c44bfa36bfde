#include <cxxabi.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

#include "ranks/detail/runtime.hpp"
#include "ranks/error.hpp"
#include "wire_internal.hpp"

namespace ranks::detail {

void prefer_huge_pages(void* p, std::size_t n) noexcept {
  // Only the 2 MiB pages wholly inside the block: nothing outside it changes.
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  if (n < 2 * kHuge) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + n) & ~(kHuge - 1);
  if (end > begin) (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> s(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && s ? std::string(s.get()) : std::string(name);
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

std::exception_ptr remote_error(Reply& r, std::ptrdiff_t index_base) {
  ErrorInfo e;
  try {
    decode(r.payload, e.type_name);
    decode(r.payload, e.message);
  } catch (const Error&) {
    e.type_name = "ranks::Error";
    e.message = "a task failed and its error report was unreadable";
  }
  const std::ptrdiff_t index =
      index_base >= 0 ? index_base + std::max<std::ptrdiff_t>(r.failed_item, 0) : -1;
  return std::make_exception_ptr(RemoteError(e.type_name, e.message, r.engine, index));
}

}  // namespace ranks::detail

#pragma once

// The modules (the executable and its shared objects) loaded in this process: where their code
// lies and which build each is, so that a function can be named by module and offset and found
// again in another process that loaded the same build.

#include <cstdint>
#include <string>
#include <vector>

namespace ranks::detail {

struct Module {
  std::string path;  // as loaded; empty for the executable
  std::uintptr_t bias = 0;
  struct Segment {
    std::uintptr_t begin;
    std::uintptr_t end;
  };
  std::vector<Segment> code;  // executable segments
  std::string build_id;       // the GNU build id's bytes, if the linker wrote one
  std::uint64_t id = 0;       // what names the module to another process: a hash of its build
                              // id (else of its file name)

  [[nodiscard]] bool holds(std::uintptr_t addr) const;
};

/// The modules loaded now, index 0 the executable; call again after a dlopen.
std::vector<Module> loaded_modules();
/// The index in `modules` of the module whose code holds addr, or -1.
int module_of(const std::vector<Module>& modules, const void* addr);
/// The build id as hexadecimal digits ("" when there is none).
std::string hex(const std::string& bytes);
/// FNV-1a over n bytes, continuing from h.
std::uint64_t fnv(std::uint64_t h, const void* p, std::size_t n);
inline constexpr std::uint64_t kFnvBasis = 1469598103934665603ull;

}  // namespace ranks::detail

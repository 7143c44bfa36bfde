#include "registry/modules.hpp"

#include <elf.h>
#include <link.h>

#include <cstring>

namespace ranks::detail {

bool Module::holds(std::uintptr_t addr) const {
  for (const auto& s : code)
    if (addr >= s.begin && addr < s.end) return true;
  return false;
}

std::uint64_t fnv(std::uint64_t h, const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

namespace {

std::string gnu_build_id(const unsigned char* p, const unsigned char* end) {
  while (p + sizeof(ElfW(Nhdr)) <= end) {
    const auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
    const auto* name = p + sizeof(ElfW(Nhdr));
    const auto* desc = name + ((nh->n_namesz + 3) & ~3u);
    if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
      return std::string(reinterpret_cast<const char*>(desc), nh->n_descsz);
    p = desc + ((nh->n_descsz + 3) & ~3u);
  }
  return {};
}

int collect(dl_phdr_info* info, std::size_t, void* data) {
  auto& modules = *static_cast<std::vector<Module>*>(data);
  Module m;
  m.path = info->dlpi_name ? info->dlpi_name : "";
  m.bias = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
      m.code.push_back({m.bias + ph.p_vaddr, m.bias + ph.p_vaddr + ph.p_memsz});
    if (ph.p_type == PT_NOTE && m.build_id.empty()) {
      const auto* p = reinterpret_cast<const unsigned char*>(m.bias + ph.p_vaddr);
      m.build_id = gnu_build_id(p, p + ph.p_memsz);
    }
  }
  if (!m.build_id.empty()) {
    m.id = fnv(kFnvBasis, m.build_id.data(), m.build_id.size());
  } else {
    const auto slash = m.path.find_last_of('/');
    const std::string base = slash == std::string::npos ? m.path : m.path.substr(slash + 1);
    m.id = fnv(kFnvBasis, base.data(), base.size());
  }
  modules.push_back(std::move(m));
  return 0;
}

}  // namespace

std::vector<Module> loaded_modules() {
  std::vector<Module> modules;
  dl_iterate_phdr(collect, &modules);
  return modules;
}

int module_of(const std::vector<Module>& modules, const void* addr) {
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  for (std::size_t i = 0; i < modules.size(); ++i)
    if (modules[i].holds(a)) return static_cast<int>(i);
  return -1;
}

}  // namespace ranks::detail

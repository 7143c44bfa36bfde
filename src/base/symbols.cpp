#include "base/symbols.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "ranks/detail/error_report.hpp"

namespace ranks::detail {

namespace {

// The functions of one file's .symtab: start offset (from its load address) to size and name.
struct FileSymbols {
  std::map<std::uintptr_t, std::pair<std::uintptr_t, std::string>> functions;
};

FileSymbols read_symtab(const char* path) {
  FileSymbols out;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(ElfW(Ehdr)))) {
    ::close(fd);
    return out;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return out;
  const auto* base = static_cast<const unsigned char*>(map);
  const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(base);
  const bool sane = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
                    eh->e_shentsize == sizeof(ElfW(Shdr)) &&
                    eh->e_shoff + std::size_t{eh->e_shnum} * sizeof(ElfW(Shdr)) <= size;
  if (sane) {
    const auto* sh = reinterpret_cast<const ElfW(Shdr)*>(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; ++i) {
      if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
      const ElfW(Shdr)& names = sh[sh[i].sh_link];
      if (sh[i].sh_offset + sh[i].sh_size > size || names.sh_offset + names.sh_size > size)
        continue;
      const auto* syms = reinterpret_cast<const ElfW(Sym)*>(base + sh[i].sh_offset);
      const std::size_t n = sh[i].sh_size / sizeof(ElfW(Sym));
      for (std::size_t k = 0; k < n; ++k) {
        if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || syms[k].st_value == 0) continue;
        if (syms[k].st_name >= names.sh_size) continue;
        const char* name = reinterpret_cast<const char*>(base + names.sh_offset + syms[k].st_name);
        out.functions[syms[k].st_value] = {
            syms[k].st_size, std::string(name, strnlen(name, names.sh_size - syms[k].st_name))};
      }
    }
  }
  ::munmap(map, size);
  return out;
}

// The name of fn from the symbol tables, demangled; "" if none names it.
std::string look_up(const void* fn) {
  Dl_info info{};
  if (dladdr(fn, &info) == 0) return {};
  if (info.dli_sname != nullptr) return demangle(info.dli_sname);
  if (info.dli_fname == nullptr || info.dli_fbase == nullptr) return {};
  static std::map<std::string, FileSymbols> files;
  auto it = files.find(info.dli_fname);
  if (it == files.end()) it = files.emplace(info.dli_fname, read_symtab(info.dli_fname)).first;
  // Symbol values are offsets from the load address in a shared object or a position-
  // independent executable (ET_DYN), which is what dladdr's base is.
  const auto offset =
      reinterpret_cast<std::uintptr_t>(fn) - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  const auto& fs = it->second.functions;
  auto f = fs.upper_bound(offset);
  if (f == fs.begin()) return {};
  --f;
  if (offset >= f->first + std::max<std::uintptr_t>(f->second.first, 1)) return {};
  return demangle(f->second.second.c_str());
}

}  // namespace

const char* function_symbol(const void* fn) {
  if (fn == nullptr) return nullptr;
  // The last functions asked about, without a lock: a map calls the same one again and again,
  // once before each task.
  struct Recent {
    const void* fn;
    const char* name;
  };
  thread_local std::array<Recent, 16> recent{};
  thread_local std::size_t next = 0;
  for (const Recent& r : recent)
    if (r.fn == fn) return r.name;
  static std::mutex mu;
  static std::map<const void*, std::string> named;  // one entry per function ever asked about
  const char* name = nullptr;
  {
    std::lock_guard<std::mutex> lk(mu);
    auto it = named.find(fn);
    if (it == named.end()) it = named.emplace(fn, look_up(fn)).first;
    if (!it->second.empty()) name = it->second.c_str();
  }
  recent[next] = {fn, name};
  next = (next + 1) % recent.size();
  return name;
}

}  // namespace ranks::detail

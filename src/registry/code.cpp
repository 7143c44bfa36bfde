#include "registry/code.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "base/host.hpp"
#include "registry/modules.hpp"

namespace ranks::detail {

std::string file_build_id(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof(Elf64_Ehdr) || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0 ||
      bytes[EI_CLASS] != ELFCLASS64)
    return {};
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    const std::size_t at = eh.e_phoff + std::size_t{i} * eh.e_phentsize;
    if (at + sizeof(Elf64_Phdr) > bytes.size()) break;
    Elf64_Phdr ph;
    std::memcpy(&ph, bytes.data() + at, sizeof ph);
    if (ph.p_type != PT_NOTE || ph.p_offset + ph.p_filesz > bytes.size()) continue;
    std::size_t p = ph.p_offset;
    const std::size_t end = ph.p_offset + ph.p_filesz;
    while (p + sizeof(Elf64_Nhdr) <= end) {
      Elf64_Nhdr nh;
      std::memcpy(&nh, bytes.data() + p, sizeof nh);
      const std::size_t name = p + sizeof nh;
      const std::size_t desc = name + ((nh.n_namesz + 3) & ~3u);
      if (desc + nh.n_descsz > end) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          std::memcmp(bytes.data() + name, "GNU", 4) == 0)
        return hex(std::string(bytes.data() + desc, nh.n_descsz));
      p = desc + ((nh.n_descsz + 3) & ~3u);
    }
  }
  return {};
}

namespace {

bool build_loaded(const std::string& build_id) {
  for (const auto& m : loaded_modules())
    if (hex(m.build_id) == build_id) return true;
  return false;
}

bool path_loaded(const std::string& path) {
  for (const auto& m : loaded_modules())
    if (m.path == path) return true;
  return false;
}

// Copies path to dir/build_id/NAME (once); returns the copy's path, or "" with why in error.
std::string copy_of(const std::string& path, const std::string& build_id, const std::string& dir,
                    std::string& error) {
  const std::string folder = dir + "/" + build_id;
  const std::string name = path.substr(path.find_last_of('/') + 1);
  std::string copy = folder + "/" + name;
  if (file_build_id(copy) == build_id) return copy;
  ::mkdir(dir.c_str(), 0700);
  ::mkdir(folder.c_str(), 0700);
  const std::string tmp = copy + ".tmp" + std::to_string(::getpid());
  {
    std::ifstream in(path, std::ios::binary);
    std::ofstream out(tmp, std::ios::binary);
    out << in.rdbuf();
    if (!in || !out) {
      error = "cannot copy " + path + " to " + folder + ": " + std::strerror(errno);
      return {};
    }
  }
  ::chmod(tmp.c_str(), 0700);
  if (::rename(tmp.c_str(), copy.c_str()) != 0) {
    error = "cannot copy " + path + " to " + copy + ": " + std::strerror(errno);
    return {};
  }
  return copy;
}

}  // namespace

std::string load_code(const std::string& path, const std::string& build_id,
                      const std::string& copies_dir) {
  if (path.empty() || build_loaded(build_id)) return {};
  if (::access(path.c_str(), R_OK) != 0)
    return "host " + host_name() + " cannot read " + path + " (" + std::strerror(errno) +
           "); the engines must see the program's code at the same path: build it on a file "
           "system every host mounts, or copy it to that path on each host";
  const std::string on_disk = file_build_id(path);
  if (on_disk != build_id)
    return "host " + host_name() + " has another build of " + path + " (build id " +
           (on_disk.empty() ? std::string("none") : on_disk) + ", the program's is " + build_id +
           "); give every host the same file (rebuild it where all hosts see it)";
  std::string target = path;
  if (path_loaded(path)) {  // an older build was loaded from this path: load this one apart
    std::string error;
    target = copy_of(path, build_id, copies_dir, error);
    if (target.empty()) return error;
  }
  if (::dlopen(target.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) == nullptr)
    return "cannot load " + target + " on host " + host_name() + ": " + ::dlerror();
  if (!build_loaded(build_id))
    return "loaded " + target + " on host " + host_name() + " but found no build " + build_id;
  return {};
}

}  // namespace ranks::detail

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ranks/detail/error_report.hpp"
#include "ranks/error.hpp"
#include "registry_table.hpp"

namespace ranks::detail {

namespace {

struct Entry {
  const char* name;
  InvokeFn fn;
  bool ambiguous = false;
};

struct Segment {
  std::uintptr_t begin;
  std::uintptr_t end;
};

struct Module {
  std::string name;
  std::uintptr_t bias = 0;
  std::vector<Segment> code;
};

struct Table {
  std::vector<Entry> entries;           // registration order
  std::vector<std::uint32_t> wire_of;   // token -> wire id
  std::vector<std::uint32_t> token_of;  // wire id -> token
  std::vector<Module> modules;          // index 0: the executable
  std::vector<std::string> readable;    // wire id -> demangled task type, for crash reports
  std::string build_id;
  bool frozen = false;
};

Table& table() {
  static Table t;
  return t;
}

std::uint64_t fnv(std::uint64_t h, const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

int collect_module(dl_phdr_info* info, std::size_t, void* data) {
  auto& t = *static_cast<Table*>(data);
  Module m;
  m.name = info->dlpi_name ? info->dlpi_name : "";
  m.bias = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
      m.code.push_back({m.bias + ph.p_vaddr, m.bias + ph.p_vaddr + ph.p_memsz});
    if (ph.p_type == PT_NOTE && t.modules.empty()) {
      // The executable's GNU build id, if the linker wrote one.
      const auto* p = reinterpret_cast<const unsigned char*>(m.bias + ph.p_vaddr);
      const auto* end = p + ph.p_memsz;
      while (p + sizeof(ElfW(Nhdr)) <= end) {
        const auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
        const auto* name = p + sizeof(ElfW(Nhdr));
        const auto* desc = name + ((nh->n_namesz + 3) & ~3u);
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
          t.build_id.assign(reinterpret_cast<const char*>(desc), nh->n_descsz);
        p = desc + ((nh->n_descsz + 3) & ~3u);
      }
    }
  }
  t.modules.push_back(std::move(m));
  return 0;
}

}  // namespace

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::uint32_t register_invoker(const char* name, InvokeFn fn) {
  auto& t = table();
  t.entries.push_back({name, fn});
  return static_cast<std::uint32_t>(t.entries.size() - 1);
}

void freeze_registry() {
  auto& t = table();
  if (t.frozen) return;
  std::vector<std::uint32_t> order(t.entries.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::strcmp(t.entries[a].name, t.entries[b].name) < 0;
  });
  // Two task types with one mangled name (e.g. lambdas in same-named static functions of two
  // files) cannot be told apart on an engine: neither may travel.
  for (std::size_t i = 1; i < order.size(); ++i) {
    auto& a = t.entries[order[i - 1]];
    auto& b = t.entries[order[i]];
    if (std::strcmp(a.name, b.name) == 0 && a.fn != b.fn) a.ambiguous = b.ambiguous = true;
  }
  t.wire_of.assign(order.size(), 0);
  t.token_of = order;
  for (std::uint32_t w = 0; w < order.size(); ++w) t.wire_of[order[w]] = w;
  for (std::uint32_t tok : t.token_of) t.readable.push_back(demangle(t.entries[tok].name));
  dl_iterate_phdr(collect_module, &t);
  t.frozen = true;
}

std::uint32_t wire_id(std::uint32_t token) {
  auto& t = table();
  if (!t.frozen)
    throw Error(
        "work was submitted outside ranks::run; wrap your program's body in "
        "ranks::run(argc, argv, body)");
  if (token >= t.wire_of.size())
    throw Error(
        "a task type was registered after start-up (a library loaded with "
        "dlopen?); link the code that defines tasks into the program");
  const auto& e = t.entries[token];
  if (e.ambiguous)
    throw Error(std::string("two different task types share the name '") + e.name +
                "' (lambdas in same-named functions of two files?); move one into a named "
                "function or functor");
  return t.wire_of[token];
}

const char* task_name(std::uint32_t id) {
  auto& t = table();
  if (id >= t.readable.size()) return "an unknown task";
  return t.readable[id].c_str();
}

InvokeFn find_invoker(std::uint32_t id) {
  auto& t = table();
  if (id >= t.token_of.size()) return nullptr;
  const auto& e = t.entries[t.token_of[id]];
  return e.ambiguous ? nullptr : e.fn;
}

FunctionRef function_ref(const void* fn) {
  auto& t = table();
  const auto addr = reinterpret_cast<std::uintptr_t>(fn);
  for (std::uint32_t i = 0; i < t.modules.size(); ++i) {
    for (const auto& s : t.modules[i].code) {
      if (addr >= s.begin && addr < s.end) return {i, 1, addr - t.modules[i].bias};
    }
  }
  throw Error(
      "a function passed as a task is not in the program or a library it was "
      "linked with (loaded later with dlopen?); engines could not find it");
}

const void* resolve_function(const FunctionRef& ref) {
  auto& t = table();
  if (!ref.valid || ref.module >= t.modules.size()) return nullptr;
  const auto& m = t.modules[ref.module];
  const std::uintptr_t addr = m.bias + ref.offset;
  for (const auto& s : m.code)
    if (addr >= s.begin && addr < s.end) return reinterpret_cast<const void*>(addr);
  return nullptr;
}

Identity identity() {
  auto& t = table();
  Identity id;
  std::uint64_t h = 1469598103934665603ull;
  const std::string exe = self_exe();
  if (!t.build_id.empty()) {
    h = fnv(h, t.build_id.data(), t.build_id.size());
  } else {
    std::ifstream f(exe, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    h = fnv(h, bytes.data(), bytes.size());
  }
  for (std::uint32_t tok : t.token_of)
    h = fnv(h, t.entries[tok].name, std::strlen(t.entries[tok].name));
  for (const auto& m : t.modules) {
    const auto slash = m.name.find_last_of('/');
    const std::string base = slash == std::string::npos ? m.name : m.name.substr(slash + 1);
    h = fnv(h, base.data(), base.size());
  }
  id.hash = h;
  std::strncpy(id.exe, exe.c_str(), sizeof id.exe - 1);
  gethostname(id.host, sizeof id.host - 1);
  id.pid = static_cast<std::int32_t>(getpid());
  return id;
}

}  // namespace ranks::detail

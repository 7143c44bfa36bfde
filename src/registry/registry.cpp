#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "ranks/detail/error_report.hpp"
#include "ranks/error.hpp"
#include "registry/modules.hpp"
#include "registry/registry_table.hpp"

namespace ranks::detail {

namespace {

struct Entry {
  const char* name;
  InvokeFn fn;
};

constexpr std::uint32_t kNone = ~0u;

// The table that wire ids index: the task types of every module (a job, where every rank runs
// one binary), or of one code module (an engine of a started cluster, serving one program).
struct Table {
  std::vector<std::uint32_t> token_of;  // wire id -> token, sorted by name
  std::vector<std::uint32_t> wire_of;   // token -> wire id, or kNone
  std::vector<bool> ambiguous;          // per wire id
  std::vector<std::string> readable;    // per wire id: the demangled task type
};

struct Registry {
  std::vector<Entry> entries;  // registration order: a token is an index
  std::vector<Module> modules;
  std::size_t last_module = 0;  // where the last function was found: tasks repeat
  Table table;
  bool frozen = false;
};

Registry& registry() {
  static Registry r;
  return r;
}

// The table of the entries for which keep(token) holds.
template <class Keep>
Table make_table(const Registry& r, Keep keep) {
  Table t;
  for (std::uint32_t i = 0; i < r.entries.size(); ++i)
    if (keep(i)) t.token_of.push_back(i);
  std::sort(t.token_of.begin(), t.token_of.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::strcmp(r.entries[a].name, r.entries[b].name) < 0;
  });
  t.wire_of.assign(r.entries.size(), kNone);
  t.ambiguous.assign(t.token_of.size(), false);
  for (std::uint32_t w = 0; w < t.token_of.size(); ++w) {
    t.wire_of[t.token_of[w]] = w;
    t.readable.push_back(demangle(r.entries[t.token_of[w]].name));
    // Two task types with one mangled name (e.g. lambdas in same-named static functions of two
    // files) cannot be told apart on an engine: neither may travel.
    if (w > 0) {
      const Entry& a = r.entries[t.token_of[w - 1]];
      const Entry& b = r.entries[t.token_of[w]];
      if (std::strcmp(a.name, b.name) == 0 && a.fn != b.fn)
        t.ambiguous[w - 1] = t.ambiguous[w] = true;
    }
  }
  return t;
}

int module_of_entry(const Registry& r, std::uint32_t token) {
  return module_of(r.modules, reinterpret_cast<const void*>(r.entries[token].fn));
}

// The module with this id, looking again at what is loaded if it is not known yet.
const Module* find_module(std::uint64_t id) {
  auto& r = registry();
  if (r.last_module < r.modules.size() && r.modules[r.last_module].id == id)
    return &r.modules[r.last_module];
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < r.modules.size(); ++i) {
      if (r.modules[i].id != id) continue;
      r.last_module = i;
      return &r.modules[i];
    }
    if (pass == 0) r.modules = loaded_modules();
  }
  return nullptr;
}

std::string realpath_of(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

}  // namespace

std::uint32_t register_invoker(const char* name, InvokeFn fn) {
  auto& r = registry();
  r.entries.push_back({name, fn});
  return static_cast<std::uint32_t>(r.entries.size() - 1);
}

void freeze_registry() {
  auto& r = registry();
  if (r.frozen) return;
  r.modules = loaded_modules();
  r.table = make_table(r, [](std::uint32_t) { return true; });
  r.frozen = true;
}

bool use_code_module(const std::string& build_id) {
  auto& r = registry();
  r.modules = loaded_modules();
  int code = -1;
  for (std::size_t i = 0; i < r.modules.size(); ++i)
    if (hex(r.modules[i].build_id) == build_id) code = static_cast<int>(i);
  if (code < 0) return false;
  r.table = make_table(r, [&](std::uint32_t t) { return module_of_entry(r, t) == code; });
  return true;
}

std::uint32_t wire_id(std::uint32_t token) {
  auto& r = registry();
  if (!r.frozen)
    throw Error(
        "work was submitted outside ranks::run; wrap your program's body in "
        "ranks::run(argc, argv, body)");
  if (token >= r.table.wire_of.size() || r.table.wire_of[token] == kNone)
    throw Error(
        "a task type was registered after start-up (a library loaded with dlopen?); link the "
        "code that defines tasks into the program");
  const std::uint32_t w = r.table.wire_of[token];
  if (r.table.ambiguous[w])
    throw Error(std::string("two different task types share the name '") + r.entries[token].name +
                "' (lambdas in same-named functions of two files?); move one into a named "
                "function or functor");
  return w;
}

const char* task_name(std::uint32_t id) {
  const auto& t = registry().table;
  if (id >= t.readable.size()) return "an unknown task";
  return t.readable[id].c_str();
}

InvokeFn find_invoker(std::uint32_t id) {
  const auto& r = registry();
  if (id >= r.table.token_of.size() || r.table.ambiguous[id]) return nullptr;
  return r.entries[r.table.token_of[id]].fn;
}

FunctionRef function_ref(const void* fn) {
  auto& r = registry();
  if (r.last_module < r.modules.size() &&
      r.modules[r.last_module].holds(reinterpret_cast<std::uintptr_t>(fn))) {
    const Module& mod = r.modules[r.last_module];
    return {mod.id, reinterpret_cast<std::uintptr_t>(fn) - mod.bias};
  }
  int m = module_of(r.modules, fn);
  if (m < 0) {
    r.modules = loaded_modules();
    m = module_of(r.modules, fn);
  }
  if (m < 0)
    throw Error(
        "a function passed as a task is not in the program or a library it was linked with "
        "(loaded later with dlopen?); engines could not find it");
  r.last_module = static_cast<std::size_t>(m);
  const Module& mod = r.modules[r.last_module];
  return {mod.id, reinterpret_cast<std::uintptr_t>(fn) - mod.bias};
}

const void* resolve_function(const FunctionRef& ref) {
  if (ref.module == 0) return nullptr;
  const Module* m = find_module(ref.module);
  if (m == nullptr) return nullptr;
  const std::uintptr_t addr = m->bias + ref.offset;
  return m->holds(addr) ? reinterpret_cast<const void*>(addr) : nullptr;
}

ProgramCode program_code() {
  auto& r = registry();
  ProgramCode code;
  std::vector<int> seen;
  for (std::uint32_t t : r.table.token_of) {
    const int m = module_of_entry(r, t);
    if (std::find(seen.begin(), seen.end(), m) == seen.end()) seen.push_back(m);
  }
  if (seen.empty()) return code;  // no task type: nothing to load
  if (seen.size() > 1 || seen.front() <= 0) {
    code.problem =
        seen.size() > 1
            ? "its task types live in more than one module; build the program with "
              "ranks_add_executable(...) and link what defines tasks into it"
            : "its task types are compiled into the executable itself; build it with "
              "ranks_add_executable(NAME sources...) (CMake, from find_package(ranks)), which "
              "puts its code in a shared object the engines load";
    return code;
  }
  const Module& m = r.modules[static_cast<std::size_t>(seen.front())];
  code.path = realpath_of(m.path);
  code.build_id = hex(m.build_id);
  if (code.build_id.empty()) {
    code.path.clear();
    code.problem = "its code module " + m.path + " has no build id (link with --build-id)";
  }
  return code;
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

Identity identity(IdentityOf what) {
  auto& r = registry();
  Identity id;
  std::uint64_t h = kFnvBasis;
  const std::string exe = self_exe();
  if (what == IdentityOf::kJob) {
    const std::string& build = r.modules.empty() ? std::string() : r.modules.front().build_id;
    if (!build.empty()) {
      h = fnv(h, build.data(), build.size());
    } else {
      std::ifstream f(exe, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      h = fnv(h, bytes.data(), bytes.size());
    }
    for (const auto& m : r.modules) {
      const auto slash = m.path.find_last_of('/');
      const std::string base = slash == std::string::npos ? m.path : m.path.substr(slash + 1);
      h = fnv(h, base.data(), base.size());
    }
  } else {
    // The code module's build and ranks' own: the task table's ids and layouts must agree.
    std::vector<int> code;
    for (std::uint32_t t : r.table.token_of) code.push_back(module_of_entry(r, t));
    if (!code.empty() && code.front() >= 0) {
      const auto& b = r.modules[static_cast<std::size_t>(code.front())].build_id;
      h = fnv(h, b.data(), b.size());
    }
    const int self = module_of(r.modules, reinterpret_cast<const void*>(&register_invoker));
    if (self >= 0) {
      const auto& b = r.modules[static_cast<std::size_t>(self)].build_id;
      h = fnv(h, b.data(), b.size());
    }
  }
  for (std::uint32_t tok : r.table.token_of)
    h = fnv(h, r.entries[tok].name, std::strlen(r.entries[tok].name));
  id.hash = h;
  std::strncpy(id.exe, exe.c_str(), sizeof id.exe - 1);
  gethostname(id.host, sizeof id.host - 1);
  id.pid = static_cast<std::int32_t>(getpid());
  return id;
}

}  // namespace ranks::detail

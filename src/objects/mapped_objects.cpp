#include "objects/mapped_objects.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/host.hpp"
#include "base/log.hpp"
#include "ranks/error.hpp"
#include "transport/shared_memory.hpp"

namespace ranks::detail::objects {

namespace {

struct Mapped {
  std::uint64_t program = 0;
  transport::SharedMemory shared;        // in /dev/shm
  std::unique_ptr<unsigned char[]> own;  // or the controller's alone
  std::unique_ptr<SyncState> state;      // nullptr: it cannot be mapped here
};

std::mutex g_mu;
// By object number: one program's objects at a time.
std::unordered_map<std::uint64_t, Mapped> g_mapped;

std::string file_of(const ObjectId& id) {
  char name[80];
  std::snprintf(name, sizeof name, "/dev/shm/ranks.obj.%016llx.%llu",
                static_cast<unsigned long long>(id.program),
                static_cast<unsigned long long>(id.id));
  return name;
}

Mapped* find(const ObjectId& id) {
  const auto it = g_mapped.find(id.id);
  return it != g_mapped.end() && it->second.program == id.program ? &it->second : nullptr;
}

Mapped try_open(const ObjectId& id, bool& missing) {
  Mapped m;
  m.program = id.program;
  try {
    m.shared = transport::SharedMemory::open(file_of(id), SyncState::size_of(id),
                                             "an object's shared memory");
    m.state = std::make_unique<SyncState>(m.shared.data(), id);
  } catch (const Error&) {
    missing = errno == ENOENT;
  }
  return m;
}

}  // namespace

std::uint32_t this_host() {
  static const std::uint32_t host = [] {
    const auto h = static_cast<std::uint32_t>(std::hash<std::string>{}(host_name()));
    return h == 0 ? 1U : h;
  }();
  return host;
}

SyncState& made(const ObjectId& id) {
  const std::lock_guard<std::mutex> g(g_mu);
  if (Mapped* m = find(id); m != nullptr && m->state) return *m->state;
  const std::size_t size = SyncState::size_of(id);
  Mapped m;
  m.program = id.program;
  void* memory = nullptr;
  if (id.host == this_host()) {
    try {
      // Set up (a semaphore's value, a barrier's parties) before anyone can open it.
      m.shared =
          transport::SharedMemory::create(file_of(id), size, "an object's shared memory",
                                          [&id](void* fresh) { SyncState(fresh, id).make(); });
      memory = m.shared.data();
    } catch (const Error& e) {
      log_line(std::string(e.what()) + "; the controller serves it to every process (slower)");
    }
  }
  if (memory == nullptr) {
    m.own.reset(new unsigned char[size]());
    memory = m.own.get();
    SyncState(memory, id).make();
  }
  m.state = std::make_unique<SyncState>(memory, id);
  return *(g_mapped[id.id] = std::move(m)).state;
}

SyncState* opened(const ObjectId& id, const std::function<void()>& make) {
  {
    const std::lock_guard<std::mutex> g(g_mu);
    if (Mapped* m = find(id)) return m->state.get();
  }
  bool missing = false;
  Mapped m;
  if (id.host == this_host()) {
    m = try_open(id, missing);
    if (missing) {
      make();
      m = try_open(id, missing);
    }
  }
  m.program = id.program;
  const std::lock_guard<std::mutex> g(g_mu);
  return (g_mapped[id.id] = std::move(m)).state.get();
}

void recover_mapped(std::uint64_t program, const LostEngine& e) {
  const std::lock_guard<std::mutex> g(g_mu);
  for (auto& [number, m] : g_mapped)
    if (m.program == program && m.state) m.state->recover(e);
}

void close_mapped(std::uint64_t program) {
  const std::lock_guard<std::mutex> g(g_mu);
  for (auto& [number, m] : g_mapped)
    if (m.program == program && m.state) m.state->close();
}

std::vector<ObjectId> mapped_ids(std::uint64_t program) {
  const std::lock_guard<std::mutex> g(g_mu);
  std::vector<ObjectId> ids;
  for (const auto& [number, m] : g_mapped)
    if (m.program == program && m.state) ids.push_back(m.state->id());
  return ids;
}

void forget_mapped() {
  const std::lock_guard<std::mutex> g(g_mu);
  g_mapped.clear();
}

}  // namespace ranks::detail::objects

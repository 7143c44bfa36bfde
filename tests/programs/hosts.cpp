// Where the engines run: one task per engine reports its host name, network namespace and IPv4
// addresses; then a map checks that results come back right from every host; then objects shared
// between processes reach every host.
//
// Prints one "engine <id> host=<name> netns=<net:[inode]> ip=<a,b>" line per engine, then
// "hosts=<n> netns=<n> addresses=<n>" (distinct values among the engines), "sum=<n>", and
// "shared: queue_hosts=<n> dict_hosts=<n> pipe_bytes=<n>" (distinct hosts that put into one
// queue and set one dict; the bytes of each block a pipe carried from the first engine to the
// last, checked), and "sync: parties=<n> locked=<n> added=<n> array_ok=<0|1>" (every engine and
// the program at one Barrier, twice; their increments of a Value under a Lock and by fetch_add,
// each of 500; each one's block of an Array, read back by the program).
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <numeric>
#include <ranks/ranks.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "?";
  return buf.data();
}

std::string net_namespace() {
  std::error_code ec;
  auto link = std::filesystem::read_symlink("/proc/self/ns/net", ec);
  return ec ? std::string("?") : link.string();
}

// The IPv4 addresses of this process's network namespace, loopback left out.
std::string addresses() {
  std::string out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "?";
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    std::array<char, INET_ADDRSTRLEN> text{};
    inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
    if (!out.empty()) out += ',';
    out += text.data();
  }
  freeifaddrs(list);
  return out.empty() ? std::string("-") : out;
}

// engine id, host name, network namespace, addresses
using Where = std::tuple<int, std::string, std::string, std::string>;

Where where(int) { return {ranks::engine_id(), host_name(), net_namespace(), addresses()}; }

long long square(long long x) { return x * x; }

// Between processes, from every host.
void report(ranks::Queue<std::string> q, ranks::DictProxy<std::string, int> d) {
  q.put(host_name());
  d.set(host_name() + " " + std::to_string(ranks::engine_id()), ranks::engine_id());
}
std::vector<int> block() {
  std::vector<int> v(1 << 18);  // 1 MiB: its own MPI message
  std::iota(v.begin(), v.end(), 7);
  return v;
}
// Four blocks, each answered before the next: the first goes through the controller, the later
// ones straight from engine to engine (across hosts: TCP) once the sender has heard the offer.
constexpr int kBlocks = 4;
void send_block(ranks::Connection<std::vector<int>> end) {
  for (int i = 0; i < kBlocks; ++i) {
    end.send(block());
    (void)end.recv();  // the answer: a block's first value
  }
}
std::size_t receive_block(ranks::Connection<std::vector<int>> end) {
  std::size_t bytes = 0;
  for (int i = 0; i < kBlocks; ++i) {
    const std::vector<int> v = end.recv();
    if (v != block()) return 0;
    bytes = v.size() * sizeof(int);
    end.send(std::vector<int>{v.front()});
  }
  return bytes;
}

}  // namespace

// At the barrier with everyone, then 500 increments of each kind and its block of the array,
// then at the barrier again.
int meet(ranks::Barrier b, ranks::Lock l, ranks::Value<long> locked, ranks::Value<long> added,
         ranks::Array<int> a, int place) {
  (void)b.wait(std::chrono::seconds(30));
  for (int i = 0; i < 500; ++i) {
    {
      std::scoped_lock g(l);
      locked.store(locked.load() + 1);
    }
    (void)added.fetch_add(1);
  }
  a.write(static_cast<std::size_t>(place) * 100, std::vector<int>(100, place + 1));
  (void)b.wait(std::chrono::seconds(30));
  return 1;
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, []() -> int {
    ranks::Pool pool;
    std::cout << "controller host=" << host_name() << " netns=" << net_namespace()
              << " ip=" << addresses() << "\n";

    // One item per engine under the static schedule: every engine answers exactly once.
    pool.set_schedule(ranks::Schedule::kStatic);
    std::vector<int> one_each(static_cast<std::size_t>(pool.size()));
    std::vector<Where> seen = pool.map(where, one_each);
    std::set<std::string> hosts, namespaces, addrs;
    for (const auto& [id, host, ns, ip] : seen) {
      std::cout << "engine " << id << " host=" << host << " netns=" << ns << " ip=" << ip << "\n";
      hosts.insert(host);
      namespaces.insert(ns);
      addrs.insert(ip);
    }
    std::cout << "hosts=" << hosts.size() << " netns=" << namespaces.size()
              << " addresses=" << addrs.size() << "\n";

    // Results from every engine, in input order, under the dynamic schedule.
    pool.set_schedule(ranks::Schedule::kDynamic);
    std::vector<long long> in(1000);
    std::iota(in.begin(), in.end(), 0LL);
    std::vector<long long> out = pool.map(square, in, /*chunksize=*/7);
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (out[i] != in[i] * in[i]) {
        std::cout << "wrong result at " << i << ": " << out[i] << "\n";
        return 1;
      }
    }
    std::cout << "sum=" << std::accumulate(out.begin(), out.end(), 0LL) << std::endl;

    ranks::Client rc;
    const std::vector<int> ids = rc.ids();
    ranks::Queue<std::string> q;
    ranks::Manager manager;
    auto d = manager.dict<std::string, int>();
    for (int id : ids) rc[id].apply(report, q, d).get();
    std::set<std::string> queue_hosts, dict_hosts;
    for (std::size_t i = 0; i < ids.size(); ++i) queue_hosts.insert(q.get());
    for (const auto& [key, id] : d.items()) dict_hosts.insert(key.substr(0, key.find(' ')));
    auto [from, to] = ranks::Pipe<std::vector<int>>();
    auto got = rc[ids.back()].apply(receive_block, to);
    rc[ids.front()].apply(send_block, from).get();
    std::cout << "shared: queue_hosts=" << queue_hosts.size() << " dict_hosts=" << dict_hosts.size()
              << " pipe_bytes=" << got.get() << std::endl;

    // Locks, values, barriers and arrays: in shared memory on the controller's host, served by
    // the controller to the others; one state for all.
    const int parties = static_cast<int>(ids.size()) + 1;
    ranks::Barrier b(static_cast<std::size_t>(parties));
    ranks::Lock l;
    ranks::Value<long> locked(0), added(0);
    ranks::Array<int> a(static_cast<std::size_t>(parties) * 100);
    std::vector<ranks::AsyncResult<int>> met;
    for (std::size_t i = 0; i < ids.size(); ++i)
      met.push_back(rc[ids[i]].apply(meet, b, l, locked, added, a, static_cast<int>(i)));
    (void)meet(b, l, locked, added, a, parties - 1);
    int came = 1;
    for (auto& m : met) came += m.get();
    bool array_ok = true;
    const std::vector<int> all = a.read();
    for (std::size_t i = 0; i < all.size(); ++i) array_ok = array_ok && all[i] == int(i / 100) + 1;
    std::cout << "sync: parties=" << came << " locked=" << locked.load()
              << " added=" << added.load() << " array_ok=" << array_ok << std::endl;
    return 0;
  });
}

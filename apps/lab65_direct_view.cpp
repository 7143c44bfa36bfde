// IPython parallel, direct view: the C++ twin of
//   rc = ipp.Client(); dview = rc[:]
//   dview.execute('a = 1'); dview.pull('a').get(); dview.push({'a': 2})
//   dview.scatter('x', range(8)); dview.gather('x').get()
#include <iostream>
#include <map>
#include <ranks/ranks.hpp>
#include <string>
#include <vector>

#include "print.hpp"

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    ranks::Client rc;
    std::cout << "Engine ids: " << as_list(rc.ids()) << "\n";
    ranks::DirectView dview = rc.direct_view("all");

    dview.execute([](ranks::Namespace& ns) { ns.set("a", 1); }).get();
    std::cout << "execute a = 1, pull('a'): " << as_list(dview.pull<int>("a").get()) << "\n";

    dview.push(std::map<std::string, int>{{"a", 2}}).get();
    std::cout << "push({'a': 2}), pull('a'): " << as_list(dview.pull<int>("a").get()) << "\n";
    for (int id : rc.ids())
      std::cout << "  engine " << id << ": a = " << rc[id].pull<int>("a").get() << "\n";

    std::vector<int> x{0, 1, 2, 3, 4, 5, 6, 7};
    dview.scatter("x", x).get();
    std::cout << "scatter('x', " << as_list(x) << ")\n";
    const auto parts = dview.pull<std::vector<int>>("x").get();
    for (std::size_t i = 0; i < parts.size(); ++i)
      std::cout << "  engine " << rc.ids()[i] << ": x = " << as_list(parts[i]) << "\n";
    std::cout << "gather('x'): " << as_list(dview.gather<int>("x").get()) << std::endl;
  });
}

// Lab 7.2: Python's Pipe example ("Exchanging objects between processes"): a Process sends a list
// through one end of a Pipe, the program receives it at the other and prints it.
//
//   def f(conn):
//       conn.send([42, None, 'hello'])
//       conn.close()
//   parent_conn, child_conn = Pipe(); p = Process(target=f, args=(child_conn,)); p.start()
//   print(parent_conn.recv()); p.join()
#include <iostream>
#include <ranks/ranks.hpp>
#include <vector>

#include "py_value.hpp"

void f(ranks::Connection<std::vector<PyValue>> conn) {
  conn.send({42, None, "hello"});
  conn.close();
}

int main(int argc, char** argv) {
  return ranks::run(argc, argv, [] {
    auto [parent_conn, child_conn] = ranks::Pipe<std::vector<PyValue>>();
    ranks::Process p(f, child_conn);
    p.start();
    std::cout << repr(parent_conn.recv()) << std::endl;  // prints "[42, None, 'hello']"
    p.join();
  });
}

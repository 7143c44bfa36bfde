// What detail/objects.hpp declares of the objects themselves: the errors their answers carry.
// (make_object and call_object reach the controller: src/controller/objects.cpp.)

#include "ranks/detail/objects.hpp"

#include "ranks/error.hpp"

namespace ranks::detail {

void throw_answer(const ObjectAnswer& a, const char* who) {
  const std::string what = std::string(who) + ": " + a.text;
  switch (a.status) {
    case Status::kEmpty:
      throw Empty(what);
    case Status::kFull:
      throw Full(what);
    case Status::kClosed:
      throw Closed(what);
    case Status::kBroken:
      throw BrokenBarrier(what);
    case Status::kLost:
      throw EngineLost(a.lost.id, a.lost.host, a.lost.pid, a.lost.signal,
                       std::string(who) + ": " + a.text);
    case Status::kOk:
    case Status::kMissing:
    case Status::kError:
      break;
  }
  throw Error(what);
}

void throw_unnamed(const char* who) {
  throw Error(std::string(who) +
              ": this handle names no object: it was made inside a task, where none can be "
              "made, or default-constructed; make it in the program (before the call that "
              "starts the task) and pass it to the task as an argument");
}

}  // namespace ranks::detail

// The controller's one entry for the objects shared between a program's processes: it makes
// them, serves the calls of its own program and of tasks (kObjectCall messages, through
// Controller::handle), and tells the objects of lost engines. What the objects are and do is
// src/objects' business; how a task's call travels, src/engine/object_calls.cpp's.

#include "ranks/detail/objects.hpp"

#include <memory>
#include <string>

#include "controller/controller.hpp"
#include "engine/engine.hpp"
#include "ranks/error.hpp"

namespace ranks::detail {

ObjectId Controller::make_object(ObjectKind kind, std::uint64_t capacity, std::uint32_t element) {
  // No lock: it draws a number (a handle decoded under the lock, as a task's result, is made
  // this way too).
  return objects_.make(kind, capacity, element, !channels_off_);
}

ObjectAnswer Controller::call_object(ObjectRequest&& r) {
  auto call = std::make_shared<objects::LocalCall>();
  {
    auto lk = lock();
    tell_objects_of_losses();  // a lost engine's waiting get must not take what comes now
    objects_.serve(call, std::move(r));
    if (call->done) return std::move(call->answer);
    wake_progress();
  }
  // The object answers once it can, or at the call's timeout (ObjectServer::check, in poll).
  wait_until(
      [&] {
        auto lk = lock();
        return call->done;
      },
      std::nullopt);
  auto lk = lock();
  return std::move(call->answer);
}

void Controller::send_to_engine(int engine, Message m) {
  if (!roster_.known(engine) || !roster_.engine(engine).alive) return;
  transmit(engine, std::move(m));
}

StraightPath Controller::straight_path(int from, int to) const {
  if (straight_pipes_off_ || from == to || !roster_.known(from) || !roster_.known(to)) return {};
  const Engine& a = roster_.engine(from);
  const Engine& b = roster_.engine(to);
  // Engines of one link share its communicator (a started cluster's engines behind a hub share
  // none with this program's).
  if (!a.alive || !b.alive || a.link != b.link || a.link < 0) return {};
  if (roster_.link_of(to).origin == Origin::kRelayed) return {};
  // On one host, as the controller and its engines there, by shared memory.
  return {b.rank, !channels_off_ && a.host == b.host};
}

void Controller::tell_objects_of_losses() {
  if (roster_.losses() == losses_told_) return;
  losses_told_ = roster_.losses();
  for (int e = 0; e < roster_.size(); ++e) {
    const Engine& m = roster_.engine(e);
    if (m.alive || m.absent || !told_lost_.insert(e).second) continue;
    objects_.lose({e, m.host, m.pid, m.signal});
  }
}

ObjectId make_object(ObjectKind kind, std::uint64_t capacity, const char* who,
                     std::uint32_t element) {
  // Inside a task a handle is made only to be decoded into; one made there by the user says
  // so when used (call_object).
  if (on_engine()) return {};
  return the_controller(who).make_object(kind, capacity, element);
}

ObjectAnswer call_object(ObjectRequest&& r, const char* who) {
  if (r.object.id == 0) throw_unnamed(who);
  if (on_engine()) return engine_object_call(std::move(r));
  r.make_whole();  // the controller keeps the item
  return the_controller(who).call_object(std::move(r));
}

}  // namespace ranks::detail

#include "ranks/error.hpp"

#include <cstring>
#include <utility>

namespace ranks {

namespace {

std::string describe(const std::string& type, const std::string& message, int engine,
                     std::ptrdiff_t index) {
  std::string s = type + ": " + message + " (raised on engine " + std::to_string(engine);
  if (index >= 0) s += ", input index " + std::to_string(index);
  return s + ")";
}

}  // namespace

MpiError::MpiError(std::string routine, int code, int error_class, const std::string& description)
    : Error(routine + " failed: " + description + " (MPI error class " +
            std::to_string(error_class) + ", code " + std::to_string(code) + ")"),
      routine_(std::move(routine)),
      code_(code),
      class_(error_class) {}

RemoteError::RemoteError(std::string type_name, std::string message, int engine_id,
                         std::ptrdiff_t index)
    : Error(Verbatim{}, describe(type_name, message, engine_id, index)),
      type_name_(std::move(type_name)),
      message_(std::move(message)),
      engine_id_(engine_id),
      index_(index) {}

namespace {

std::string lost_message(int engine, const std::string& host, int pid, int signal,
                         const std::string& what) {
  return "engine " + std::to_string(engine) + " (pid " + std::to_string(pid) + " on " + host +
         ") died of signal " + std::to_string(signal) + " (" + strsignal(signal) + ")" +
         (what.empty() ? "" : "; " + what);
}

}  // namespace

EngineLost::EngineLost(int engine_id, std::string host, int pid, int signal,
                       const std::string& what)
    : RemoteError("ranks::EngineLost", lost_message(engine_id, host, pid, signal, what), engine_id),
      host_(std::move(host)),
      pid_(pid),
      signal_(signal) {}

}  // namespace ranks

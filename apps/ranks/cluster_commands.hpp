#pragma once

// `ranks cluster start | stop | status | list`: what ipcluster does for IPython, for ranks.

#include <string>
#include <vector>

namespace ranks::cli {

struct StartOptions {
  std::string profile = "default";
  int engines = -1;  // not given: one per core
  std::string hostfile;
  std::vector<std::string> mpirun_args;
  bool relay = false;      // programs reach the engines through the hub even on one host
  bool no_refill = false;  // a lost engine is not replaced
  int connect_limit = -1;  // programs connected over MPI before the others are relayed (-1: the
                           // default)
  double timeout_s = 60;
  std::string dashboard;  // [ADDRESS:]PORT where the hub serves the dashboard ("": none)
};

/// Each returns the command's exit code, having said what happened (or what to do) on stdout
/// or stderr.
int start(const StartOptions& o);
int stop(const std::string& profile);
int status(const std::string& profile, bool as_json);
int list();

}  // namespace ranks::cli

// The ranks command: start a cluster of engines once, then run programs that attach to it; draw
// a run's tasks as a chart.
//
//   ranks cluster start [-n N] [--hostfile F] [--profile NAME] [--mpirun-args "..."]
//   ranks cluster status | stop [--profile NAME]
//   ranks cluster list
//   ranks timeline FILE -o PNG [--width W] [--height H]

#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>

#include "cluster/cluster.hpp"
#include "cluster_commands.hpp"
#include "ranks/error.hpp"
#include "timeline_command.hpp"

int main(int argc, char** argv) try {
  CLI::App app{"ranks: Python's multiprocessing and IPython parallel for C++, over MPI"};
  app.require_subcommand(1);
  auto* cluster = app.add_subcommand("cluster", "start engines once; programs then attach to them");
  cluster->require_subcommand(1);

  ranks::cli::StartOptions start;
  std::string extra;
  auto* cstart = cluster->add_subcommand(
      "start", "start the engines (and what they need) in the background; return once they wait");
  cstart->add_option("-n,--engines", start.engines, "how many engines (default: one per core)");
  cstart->add_option("--hostfile", start.hostfile, "an Open MPI hostfile: engines across hosts")
      ->check(CLI::ExistingFile);
  cstart->add_option("--profile", start.profile, "the cluster's name (default: default)");
  cstart->add_option("--mpirun-args", extra, "more arguments for mpirun, in one string");
  cstart->add_option("--timeout", start.timeout_s, "seconds to wait for the engines (default 60)");
  cstart->add_option("--dashboard", start.dashboard,
                     "serve the live dashboard at PORT (this host only) or ADDRESS:PORT");
  cstart->add_flag("--no-refill", start.no_refill,
                   "do not spawn an engine in place of one that is lost (a cluster on this host "
                   "refills itself by default)");
  cstart->add_flag("--relay", start.relay,
                   "programs reach the engines through the hub, as across hosts, even on one");
  cstart
      ->add_option("--connect-limit", start.connect_limit,
                   "programs that connect to the engines over MPI before the hub relays the "
                   "others (Open MPI keeps memory of each connected program until the cluster "
                   "stops; default 200, 0: relay all)")
      ->check(CLI::NonNegativeNumber);

  std::string profile = "default";
  bool as_json = false;
  auto* cstop = cluster->add_subcommand("stop", "end every process that start started");
  cstop->add_option("--profile", profile, "the cluster's name (default: default)");
  auto* cstatus = cluster->add_subcommand("status", "engines, uptime, the attached program");
  cstatus->add_option("--profile", profile, "the cluster's name (default: default)");
  cstatus->add_flag("--json", as_json, "print the hub's answer as JSON");
  auto* clist = cluster->add_subcommand("list", "the profiles, and whether each cluster runs");

  ranks::cli::TimelineOptions chart;
  auto* timeline = app.add_subcommand(
      "timeline",
      "a Gantt chart (PNG, by gnuplot) of the tasks in a trace that a program wrote "
      "under RANKS_TIMELINE=FILE, and each engine's busy fraction");
  timeline->add_option("file", chart.file, "the trace (JSON)")->required();
  timeline->add_option("-o,--output", chart.output, "the PNG to write")->required();
  timeline->add_option("--width", chart.width, "the chart's width in pixels (default 1200)")
      ->check(CLI::Range(200, 20000));
  timeline->add_option("--height", chart.height, "its height (default: from the engines)")
      ->check(CLI::Range(200, 20000));

  // What mpirun runs on each rank of a started cluster (not for users).
  std::string dir, door_host;
  auto* cserve = cluster->add_subcommand("serve", "");
  cserve->group("");
  cserve->add_option("--profile-dir", dir)->required();
  cserve->add_option("--door-host", door_host)->required();
  cserve->allow_extras();
  std::string port;  // what the hub runs to turn engines away (not for users)
  auto* cturn = cluster->add_subcommand("turn-away", "");
  cturn->group("");
  cturn->add_option("--profile-dir", dir)->required();
  cturn->add_option("--port", port)->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*cserve) return ranks::detail::cluster::serve_cluster(argc, argv, dir, door_host);
  if (*cturn) return ranks::detail::cluster::turn_away(argc, argv, dir, port);
  if (*cstart) {
    if (!extra.empty()) {
      std::istringstream words(extra);
      for (std::string w; words >> w;) start.mpirun_args.push_back(w);
    }
    return ranks::cli::start(start);
  }
  if (*cstop) return ranks::cli::stop(profile);
  if (*cstatus) return ranks::cli::status(profile, as_json);
  if (*clist) return ranks::cli::list();
  if (*timeline) return ranks::cli::timeline(chart);
  return 64;
} catch (const ranks::Error& e) {  // it says what went wrong and what to do
  std::cerr << e.what() << std::endl;
  return 1;
} catch (const std::exception& e) {
  std::cerr << "ranks: " << e.what() << std::endl;
  return 1;
}

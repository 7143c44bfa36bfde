#pragma once

// Hand-written MPI, the floor no library can beat: ping-pong, a one-task-in-flight queue,
// scatter/gather, a big round trip. The engines' side runs as a ranks task (so the engines are
// free to speak raw MPI on MPI_COMM_WORLD); the controller's side holds the ranks lock, so no
// other MPI call interleaves with it. Needs mpirun (the engines must be in MPI_COMM_WORLD).

#include <vector>

namespace bench::raw {

enum Mode : int { kPingPong = 1, kQueue = 2, kScatterGather = 3, kBandwidth = 4, kImbalance = 5 };

/// Engine side: serves one raw MPI protocol until told to stop; returns 0.
int serve(int mode, int n);

/// Controller side of each protocol, with `workers` engines (world ranks 1..workers) serving.
double pingpong_us(int round_trips);                    // microseconds per round trip
double queue_tasks_per_s(int workers, int n);           // one int task in flight per engine
double scatter_gather_tasks_per_s(int workers, int n);  // MPI_Scatter + MPI_Gather of n ints
double bandwidth_gbs(std::size_t bytes);                // round trip GB/s (2 * bytes / s)
double imbalance_wall_s(int workers, const std::vector<double>& ms);  // one task in flight

}  // namespace bench::raw

#include "mpi_raw.hpp"

#include <mpi.h>

#include <vector>

#include "workloads.hpp"

namespace bench::raw {

namespace {
constexpr int kTag = 77;
constexpr int kStop = -1;
MPI_Comm world() { return MPI_COMM_WORLD; }
}  // namespace

int serve(int mode, int n) {
  const int me = [] {
    int r;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }();
  (void)me;
  if (mode == kPingPong) {
    for (int i = 0; i < n; ++i) {
      int x;
      MPI_Recv(&x, 1, MPI_INT, 0, kTag, world(), MPI_STATUS_IGNORE);
      x = square(x);
      MPI_Send(&x, 1, MPI_INT, 0, kTag, world());
    }
  } else if (mode == kQueue || mode == kImbalance) {
    while (true) {
      double v;
      MPI_Recv(&v, 1, MPI_DOUBLE, 0, kTag, world(), MPI_STATUS_IGNORE);
      if (v == kStop) break;
      v = mode == kQueue ? square(static_cast<int>(v)) : spin(v);
      MPI_Send(&v, 1, MPI_DOUBLE, 0, kTag, world());
    }
  } else if (mode == kScatterGather) {
    int size;
    MPI_Comm_size(world(), &size);
    const int each = n;
    std::vector<int> part(static_cast<std::size_t>(each));
    MPI_Scatter(nullptr, each, MPI_INT, part.data(), each, MPI_INT, 0, world());
    for (auto& x : part) x = square(x);
    MPI_Gather(part.data(), each, MPI_INT, nullptr, each, MPI_INT, 0, world());
  } else if (mode == kBandwidth) {
    std::vector<double> buf(static_cast<std::size_t>(n));
    MPI_Recv(buf.data(), n, MPI_DOUBLE, 0, kTag, world(), MPI_STATUS_IGNORE);
    MPI_Send(buf.data(), n, MPI_DOUBLE, 0, kTag, world());
  }
  return 0;
}

double pingpong_us(int round_trips) {
  const auto t0 = Clock::now();
  for (int i = 0; i < round_trips; ++i) {
    int x = i;
    MPI_Send(&x, 1, MPI_INT, 1, kTag, world());
    MPI_Recv(&x, 1, MPI_INT, 1, kTag, world(), MPI_STATUS_IGNORE);
  }
  return seconds_since(t0) * 1e6 / round_trips;
}

namespace {
// Sends values[i] to whichever engine is free, one in flight per engine; returns the wall time.
double queue(int workers, const std::vector<double>& values) {
  const auto t0 = Clock::now();
  std::size_t next = 0;
  int busy = 0;
  for (int e = 1; e <= workers && next < values.size(); ++e, ++busy)
    MPI_Send(&values[next++], 1, MPI_DOUBLE, e, kTag, world());
  while (busy > 0) {
    double r;
    MPI_Status st;
    MPI_Recv(&r, 1, MPI_DOUBLE, MPI_ANY_SOURCE, kTag, world(), &st);
    if (next < values.size()) {
      MPI_Send(&values[next++], 1, MPI_DOUBLE, st.MPI_SOURCE, kTag, world());
    } else {
      --busy;
    }
  }
  const double wall = seconds_since(t0);
  const double stop = kStop;
  for (int e = 1; e <= workers; ++e) MPI_Send(&stop, 1, MPI_DOUBLE, e, kTag, world());
  return wall;
}
}  // namespace

double queue_tasks_per_s(int workers, int n) {
  std::vector<double> values(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = i;
  return n / queue(workers, values);
}

double imbalance_wall_s(int workers, const std::vector<double>& ms) { return queue(workers, ms); }

double scatter_gather_tasks_per_s(int workers, int n) {
  const int each = n / workers;
  std::vector<int> in(static_cast<std::size_t>(each) * (workers + 1));
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i);
  std::vector<int> out(in.size());
  const auto t0 = Clock::now();
  std::vector<int> mine(static_cast<std::size_t>(each));
  MPI_Scatter(in.data(), each, MPI_INT, mine.data(), each, MPI_INT, 0, world());
  MPI_Gather(mine.data(), each, MPI_INT, out.data(), each, MPI_INT, 0, world());
  return static_cast<double>(each) * workers / seconds_since(t0);
}

double bandwidth_gbs(std::size_t bytes) {
  const int n = static_cast<int>(bytes / sizeof(double));
  std::vector<double> buf(static_cast<std::size_t>(n), 1.0);
  const auto t0 = Clock::now();
  MPI_Send(buf.data(), n, MPI_DOUBLE, 1, kTag, world());
  MPI_Recv(buf.data(), n, MPI_DOUBLE, 1, kTag, world(), MPI_STATUS_IGNORE);
  return 2.0 * static_cast<double>(bytes) / seconds_since(t0) / 1e9;
}

}  // namespace bench::raw

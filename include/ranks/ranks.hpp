#pragma once

/// @file
/// Every public header of ranks in one: `#include <ranks/ranks.hpp>`.

/// @namespace ranks
/// Python's multiprocessing (Process, Pool, queues, pipes, locks, shared values, a Manager) and
/// IPython parallel (Client, DirectView, LoadBalancedView) for C++, over MPI. Everything a
/// program names is here; ranks::detail is the library's own.

#include "ranks/async_result.hpp"
#include "ranks/barrier.hpp"
#include "ranks/client.hpp"
#include "ranks/compose.hpp"
#include "ranks/condition.hpp"
#include "ranks/dashboard.hpp"
#include "ranks/engine_comm.hpp"
#include "ranks/error.hpp"
#include "ranks/imap_range.hpp"
#include "ranks/manager.hpp"
#include "ranks/metadata.hpp"
#include "ranks/namespace.hpp"
#include "ranks/pipe.hpp"
#include "ranks/pool.hpp"
#include "ranks/process.hpp"
#include "ranks/queue.hpp"
#include "ranks/reference.hpp"
#include "ranks/run.hpp"
#include "ranks/synchronize.hpp"
#include "ranks/timeline.hpp"
#include "ranks/value.hpp"
#include "ranks/views.hpp"

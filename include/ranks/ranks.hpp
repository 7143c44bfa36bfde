#pragma once

/// ranks: Python's multiprocessing and IPython parallel for C++, over MPI.

#include "ranks/async_result.hpp"
#include "ranks/barrier.hpp"
#include "ranks/client.hpp"
#include "ranks/compose.hpp"
#include "ranks/condition.hpp"
#include "ranks/engine_comm.hpp"
#include "ranks/error.hpp"
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
#include "ranks/value.hpp"
#include "ranks/views.hpp"

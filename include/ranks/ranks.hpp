#pragma once

/// ranks: Python's multiprocessing and IPython parallel for C++, over MPI.

#include "ranks/async_result.hpp"
#include "ranks/error.hpp"
#include "ranks/pool.hpp"
#include "ranks/process.hpp"
#include "ranks/run.hpp"

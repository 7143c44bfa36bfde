#pragma once

/// @file
/// The views of IPython parallel: DirectView and EngineView (every target, or one engine) and
/// LoadBalancedView (the dynamic queue).

#include "ranks/direct_view.hpp"
#include "ranks/load_balanced_view.hpp"

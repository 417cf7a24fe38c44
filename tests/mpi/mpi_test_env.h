#pragma once
// Shared access to the test run's DistRuntime (created once in mpi_test_main.cpp).
#include "dist/runtime.h"

namespace vlmt::testing {
DistRuntime& runtime();
}  // namespace vlmt::testing

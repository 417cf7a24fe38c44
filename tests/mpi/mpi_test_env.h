#pragma once
// Shared access to the test run's DistRuntime (created once in mpi_test_main.cpp).
#include <memory>

#include "distributed/communicator.h"
#include "distributed/runtime.h"

namespace vlmt::testing {
DistRuntime& runtime();
// A CPU MPI communicator over every rank of the test run.
std::unique_ptr<Communicator> mpi_communicator();
}  // namespace vlmt::testing

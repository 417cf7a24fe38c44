// Main of the 2-rank test executable: one DistRuntime for the whole run, every rank prints its
// own gtest results, and the exit code is non-zero on every rank if any rank had a failure.
#include <gtest/gtest.h>

#include "distributed/runtime.h"
#include "mpi_test_env.h"

namespace vlmt::testing {
namespace {
DistRuntime* g_runtime = nullptr;
}
DistRuntime& runtime() { return *g_runtime; }
std::unique_ptr<Communicator> mpi_communicator() {
  return make_communicator("mpi", runtime(), torch::kCPU);
}
}  // namespace vlmt::testing

int main(int argc, char** argv) {
  vlmt::DistRuntime runtime(&argc, &argv);
  vlmt::testing::g_runtime = &runtime;
  ::testing::InitGoogleTest(&argc, argv);
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (any_failed && !failed) {
    std::fprintf(stderr, "[rank %d] passed, but another rank failed\n", runtime.rank());
  }
  return any_failed;
}

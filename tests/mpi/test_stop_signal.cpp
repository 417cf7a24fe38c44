// Every rank must take the same stop decision, whichever rank received the signal.
#include <gtest/gtest.h>

#include <csignal>

#include "distributed/communicator.h"
#include "distributed/stop_signal.h"
#include "mpi_test_env.h"

namespace vlmt {
namespace {

TEST(StopSignal, OneRanksSignalStopsAllRanks) {
  auto comm = testing::mpi_communicator();
  install_stop_handlers();
  clear_stop_request();
  EXPECT_FALSE(agree_to_stop(*comm));
  if (comm->rank() == 1) std::raise(SIGUSR1);
  EXPECT_EQ(stop_requested(), comm->rank() == 1);
  EXPECT_TRUE(agree_to_stop(*comm)) << "rank " << comm->rank() << " did not see the stop";
  clear_stop_request();
  EXPECT_FALSE(agree_to_stop(*comm));
}

TEST(StopSignal, DeadlineOnOneRankStopsAllRanks) {
  auto comm = testing::mpi_communicator();
  clear_stop_request();
  const Deadline deadline(comm->rank() == 0 ? 1e-12 : 0.0);  // rank 0's budget is spent
  EXPECT_TRUE(agree_to_stop(*comm, deadline));
  EXPECT_FALSE(agree_to_stop(*comm, Deadline(10.0)));
}

}  // namespace
}  // namespace vlmt

// DSG decisions at 2 real MPI ranks: each rank scores different local validation data; the
// scores are combined with an all-reduce (as the trainer does) and every rank's schedule must
// take exactly the same go/stop decisions at the same iterations.
#include <gtest/gtest.h>

#include <cmath>

#include "core/log.h"
#include "distributed/communicator.h"
#include "mpi_test_env.h"
#include "train/dsg_schedule.h"

using namespace vlmt;

TEST(DsgRanks, DifferentLocalDataGiveIdenticalTimelines) {
  auto& rt = vlmt::testing::runtime();
  auto comm = make_communicator(rt.size() > 1 ? "mpi" : "local", rt, torch::kCPU);
  std::vector<ScheduledTask> tasks = {{"vqa", 1, 3}, {"refcoco", 3, 2}, {"nlvr2", 4, 5}};
  DsgSchedule schedule(tasks, DsgOptions{});
  schedule.set_communicator(comm.get());
  NullScheduleSink sink;
  std::string timeline;
  for (int64_t it = 1; it <= 120; ++it) {
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (schedule.weight(t, it) > 0) timeline += cat(it, ":", t, " ");
      if (!schedule.should_validate(t, it)) continue;
      // Local shard: the rank's own items (different on each rank), a learning curve that
      // saturates and then drifts down for task 1 so that it goes stop → go.
      const double progress = 1.0 - std::exp(-static_cast<double>(it) / (20.0 + 10 * t));
      const double drift = t == 1 && it > 60 ? 0.002 * (it - 60) : 0.0;
      const double local_correct = (40 + 10 * comm->rank()) * std::max(0.0, progress - drift);
      const double local_count = 40 + 10 * comm->rank();
      auto sums = comm->all_reduce_vector({local_correct, local_count});
      schedule.on_validation(t, it, sums[0] / sums[1], sink);
    }
  }
  // Rank 0's timeline, broadcast and compared on every rank.
  const std::string reference = comm->broadcast_string(timeline, 0);
  EXPECT_EQ(timeline, reference);
  // The schedule did stop tasks (the test would prove nothing on an all-go timeline).
  EXPECT_NE(schedule.state_label(0, 120), "");
  bool any_stop = false;
  for (size_t t = 0; t < tasks.size(); ++t) any_stop |= schedule.monitor(t).state().mode == DsgMode::kStop;
  for (const auto& e : schedule.monitor(1).history()) any_stop |= e.mode == DsgMode::kStop;
  EXPECT_TRUE(any_stop);
}

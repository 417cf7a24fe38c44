// The shared-GPU check over real MPI ranks (DistRuntime::check_node_devices), with PCI bus ids
// passed in as select_device would pass the real ones: two ranks of a node naming one GPU stop
// with the same error on every rank (no rank is left waiting), distinct GPUs or CPU ranks pass.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "mpi_test_env.h"

namespace vlmt {
namespace {

TEST(NodeDevices, EveryRankStopsWhenTwoRanksShareAGpu) {
  auto& rt = testing::runtime();
  ASSERT_EQ(rt.local_size(), 2) << "run under mpirun -n 2 on one host";
  // CUDA_VISIBLE_DEVICES naming one device for every rank: each rank sees it as cuda:0.
  try {
    rt.check_node_devices("0000:18:00.0");
    FAIL() << "rank " << rt.rank() << ": no error for a shared GPU";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("local ranks 0, 1 would all drive the GPU at PCI bus id 0000:18:00.0"),
              std::string::npos) << e.what();
  }
}

TEST(NodeDevices, DistinctGpusAndCpuRanksPass) {
  auto& rt = testing::runtime();
  EXPECT_NO_THROW(rt.check_node_devices(rt.local_rank() == 0 ? "0000:18:00.0" : "0000:2a:00.0"));
  EXPECT_NO_THROW(rt.check_node_devices(""));
  EXPECT_TRUE(rt.select_device(DeviceRequest::kCpu, "test").is_cpu());  // collective too
}

TEST(NodeDevices, ACpuRankBesideAGpuRankStops) {
  auto& rt = testing::runtime();
  EXPECT_THROW(rt.check_node_devices(rt.local_rank() == 0 ? "0000:18:00.0" : ""), Error);
}

}  // namespace
}  // namespace vlmt

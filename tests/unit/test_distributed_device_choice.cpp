// Device choice and the shared-GPU check (distributed/device_choice.h), with made-up probes and PCI bus
// ids: CUDA asked for but unusable is an error naming the reason, "auto" never falls back to the
// CPU silently, and two ranks of a node on one GPU stop every rank with a message.
#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"
#include "error_text.h"
#include "distributed/device_choice.h"
#include "distributed/runtime.h"

namespace vlmt {
namespace {

CudaProbe usable() {
  CudaProbe p;
  p.vlmt_built_with_cuda = p.libtorch_has_cuda = true;
  p.visible_devices = 8;
  return p;
}

TEST(DeviceChoice, CpuIsAlwaysTheCpu) {
  EXPECT_FALSE(decide_device(DeviceRequest::kCpu, usable(), "x").cuda);
  EXPECT_EQ(decide_device(DeviceRequest::kCpu, CudaProbe{}, "x").note, "");
}

TEST(DeviceChoice, CudaWhenEverythingIsThere) {
  EXPECT_TRUE(decide_device(DeviceRequest::kCuda, usable(), "x").cuda);
  EXPECT_TRUE(decide_device(DeviceRequest::kAuto, usable(), "x").cuda);
}

TEST(DeviceChoice, CudaAskedForButUnusableIsAnErrorSayingWhy) {
  CudaProbe no_gpu = usable();
  no_gpu.visible_devices = 0;
  no_gpu.cuda_visible_devices = "";
  const std::string e = testing::error_text_of([&] { decide_device(DeviceRequest::kCuda, no_gpu, "--device cuda"); });
  EXPECT_NE(e.find("--device cuda needs a CUDA device"), std::string::npos) << e;
  EXPECT_NE(e.find("no usable GPU"), std::string::npos) << e;
  EXPECT_NE(e.find("driver"), std::string::npos) << e;

  CudaProbe cpu_vlmt = usable();
  cpu_vlmt.vlmt_built_with_cuda = false;
  EXPECT_NE(testing::error_text_of([&] { decide_device(DeviceRequest::kCuda, cpu_vlmt, "dist.backend = \"nccl\""); })
                .find("-DVLMT_WITH_CUDA=ON"),
            std::string::npos);
  CudaProbe cpu_torch = usable();
  cpu_torch.libtorch_has_cuda = false;
  EXPECT_NE(testing::error_text_of([&] { decide_device(DeviceRequest::kCuda, cpu_torch, "x"); }).find("no CUDA support"),
            std::string::npos);
}

TEST(DeviceChoice, AutoFallsBackToTheCpuOnlySayingSo) {
  CudaProbe no_gpu = usable();
  no_gpu.visible_devices = 0;
  const DeviceDecision d = decide_device(DeviceRequest::kAuto, no_gpu, "x");
  EXPECT_FALSE(d.cuda);
  EXPECT_NE(d.note.find("running on the CPU: the LibTorch sees no usable GPU"), std::string::npos) << d.note;
  // The plain CPU build on a CPU LibTorch has nothing to explain.
  EXPECT_EQ(decide_device(DeviceRequest::kAuto, CudaProbe{}, "x").note, "");
}

TEST(DeviceChoice, RequestNames) {
  EXPECT_EQ(device_request_named("cpu"), DeviceRequest::kCpu);
  EXPECT_EQ(device_request_named("cuda"), DeviceRequest::kCuda);
  EXPECT_EQ(device_request_named("auto"), DeviceRequest::kAuto);
  EXPECT_THROW(device_request_named("gpu"), ConfigError);
  EXPECT_EQ(device_request_for_backend("nccl"), DeviceRequest::kCuda);
  EXPECT_EQ(device_request_for_backend("auto"), DeviceRequest::kAuto);
  EXPECT_EQ(device_request_for_backend("mpi"), DeviceRequest::kCpu);
  EXPECT_EQ(device_request_for_backend("local"), DeviceRequest::kCpu);
}

TEST(NodeDevices, DistinctGpusOrAllCpuPass) {
  EXPECT_NO_THROW(check_distinct_devices({"0000:18:00.0", "0000:2a:00.0", "0000:3a:00.0"}));
  EXPECT_NO_THROW(check_distinct_devices({"", "", ""}));
  EXPECT_NO_THROW(check_distinct_devices({"0000:18:00.0"}));
}

TEST(NodeDevices, TwoRanksOnOneGpuStopWithAMessage) {
  // CUDA_VISIBLE_DEVICES=0 for every rank: each sees that GPU as cuda:0.
  const std::string e = testing::error_text_of([] {
    check_distinct_devices({"0000:18:00.0", "0000:2a:00.0", "0000:18:00.0", "0000:18:00.0"});
  });
  EXPECT_NE(e.find("local ranks 0, 2, 3 would all drive the GPU at PCI bus id 0000:18:00.0"),
            std::string::npos) << e;
  EXPECT_NE(e.find("CUDA_VISIBLE_DEVICES"), std::string::npos) << e;
}

TEST(NodeDevices, MixedCpuAndGpuRanksStop) {
  EXPECT_NE(testing::error_text_of([] { check_distinct_devices({"0000:18:00.0", ""}); }).find("1 of the 2 ranks"),
            std::string::npos);
}

// A CPU rank's loader workers have nothing to set up (on CUDA they make the rank's GPU current).
TEST(DeviceChoice, HelperThreadsOfACpuRankNeedNoSetup) {
  EXPECT_FALSE(static_cast<bool>(thread_device_setup(torch::Device(torch::kCPU))));
}

}  // namespace
}  // namespace vlmt

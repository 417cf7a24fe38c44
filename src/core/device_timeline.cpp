#include "core/device_timeline.h"

#include <chrono>

namespace vlmt {

#ifdef VLMT_WITH_CUDA
std::unique_ptr<DeviceTimeline> make_cuda_timeline(torch::Device device);  // device_timeline_cuda.cpp
#endif

namespace {

class HostTimeline : public DeviceTimeline {
 public:
  HostTimeline() : last_(std::chrono::steady_clock::now()) {}
  void mark() override { marks_.push_back(std::chrono::steady_clock::now()); }
  std::vector<double> settle() override {
    std::vector<double> out;
    for (const auto& m : marks_) {
      out.push_back(std::chrono::duration<double>(m - last_).count());
      last_ = m;
    }
    marks_.clear();
    return out;
  }

 private:
  std::chrono::steady_clock::time_point last_;
  std::vector<std::chrono::steady_clock::time_point> marks_;
};

}  // namespace

std::unique_ptr<DeviceTimeline> make_device_timeline(torch::Device device) {
#ifdef VLMT_WITH_CUDA
  if (device.is_cuda()) return make_cuda_timeline(device);
#endif
  (void)device;
  return std::make_unique<HostTimeline>();
}

}  // namespace vlmt

// The CUDA side of core/device_timeline.h (compiled only with -DVLMT_WITH_CUDA=ON): timing
// events recorded on the current stream, reused from a pool; settle() synchronises on the last
// one only and reads the intervals with cudaEventElapsedTime.
#ifdef VLMT_WITH_CUDA

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/cuda_check.h"
#include "core/device_timeline.h"

namespace vlmt {
namespace {

class CudaTimeline : public DeviceTimeline {
 public:
  explicit CudaTimeline(torch::Device device) : device_(device) {
    c10::cuda::CUDAGuard guard(device_);
    origin_ = take();
    record(origin_);
  }
  ~CudaTimeline() override {
    for (auto event : free_) cudaEventDestroy(event);
    for (auto event : marks_) cudaEventDestroy(event);
    if (origin_) cudaEventDestroy(origin_);
  }

  void mark() override {
    c10::cuda::CUDAGuard guard(device_);
    cudaEvent_t event = take();
    record(event);
    marks_.push_back(event);
  }

  std::vector<double> settle() override {
    std::vector<double> out;
    if (marks_.empty()) return out;
    c10::cuda::CUDAGuard guard(device_);
    check_cuda(cudaEventSynchronize(marks_.back()), "cudaEventSynchronize");  // the one wait
    for (cudaEvent_t event : marks_) {
      float ms = 0;
      check_cuda(cudaEventElapsedTime(&ms, origin_, event), "cudaEventElapsedTime");
      out.push_back(ms / 1000.0);
      free_.push_back(origin_);
      origin_ = event;
    }
    marks_.clear();
    return out;
  }

 private:
  cudaEvent_t take() {
    if (!free_.empty()) {
      cudaEvent_t event = free_.back();
      free_.pop_back();
      return event;
    }
    cudaEvent_t event = nullptr;
    check_cuda(cudaEventCreate(&event), "cudaEventCreate");
    return event;
  }
  void record(cudaEvent_t event) {
    check_cuda(cudaEventRecord(event, c10::cuda::getCurrentCUDAStream(device_.index()).stream()), "cudaEventRecord");
  }

  torch::Device device_;
  cudaEvent_t origin_ = nullptr;  // the last settled mark
  std::vector<cudaEvent_t> marks_, free_;
};

}  // namespace

std::unique_ptr<DeviceTimeline> make_cuda_timeline(torch::Device device) {
  return std::make_unique<CudaTimeline>(device);
}

}  // namespace vlmt

#endif  // VLMT_WITH_CUDA

// The CUDA side of distributed/comm_streams.h (compiled only with -DVLMT_WITH_CUDA=ON): a dedicated
// high-priority stream from LibTorch's pool for the all-reduces, and one event per direction.
// One event suffices: cudaStreamWaitEvent waits for the record made before the call, so the
// event can be recorded again at once.
#ifdef VLMT_WITH_CUDA

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/cuda_check.h"
#include "distributed/comm_streams.h"

namespace vlmt {
namespace {

class CudaStreamOps : public StreamOps {
 public:
  explicit CudaStreamOps(torch::Device device)
      : device_(device), comm_(c10::cuda::getStreamFromPool(/*isHighPriority=*/true, device.index())) {
    c10::cuda::CUDAGuard guard(device_);
    for (auto& event : events_) check_cuda(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate");
  }
  ~CudaStreamOps() override {
    for (auto event : events_) cudaEventDestroy(event);
  }

  int record(StreamRole role) override {
    const int event = role == StreamRole::kCompute ? 0 : 1;
    check_cuda(cudaEventRecord(events_[event], stream(role)), "cudaEventRecord");
    return event;
  }
  void wait(StreamRole role, int event) override {
    check_cuda(cudaStreamWaitEvent(stream(role), events_[event], 0), "cudaStreamWaitEvent");
  }
  void on_comm(const std::function<void()>& work) override {
    c10::cuda::CUDAStreamGuard guard(comm_);
    work();
  }

 private:
  cudaStream_t stream(StreamRole role) const {
    return role == StreamRole::kComm ? comm_.stream()
                                     : c10::cuda::getCurrentCUDAStream(device_.index()).stream();
  }

  torch::Device device_;
  c10::cuda::CUDAStream comm_;
  cudaEvent_t events_[2] = {nullptr, nullptr};
};

}  // namespace

std::unique_ptr<StreamOps> make_cuda_stream_ops(torch::Device device) {
  return std::make_unique<CudaStreamOps>(device);
}

}  // namespace vlmt

#endif  // VLMT_WITH_CUDA

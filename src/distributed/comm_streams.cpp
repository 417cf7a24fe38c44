#include "distributed/comm_streams.h"

namespace vlmt {

#ifdef VLMT_WITH_CUDA
std::unique_ptr<StreamOps> make_cuda_stream_ops(torch::Device device);  // comm_streams_cuda.cpp
#endif

void CommStreams::run_collective(const std::function<void()>& collective) {
  if (!ops_) {
    collective();
    return;
  }
  ops_->wait(StreamRole::kComm, ops_->record(StreamRole::kCompute));
  ops_->on_comm(collective);
  issued_ = true;
}

void CommStreams::join() {
  if (!ops_ || !issued_) return;
  ops_->wait(StreamRole::kCompute, ops_->record(StreamRole::kComm));
  issued_ = false;
}

std::unique_ptr<StreamOps> make_stream_ops(torch::Device device) {
#ifdef VLMT_WITH_CUDA
  if (device.is_cuda()) return make_cuda_stream_ops(device);
#endif
  (void)device;
  return nullptr;
}

}  // namespace vlmt

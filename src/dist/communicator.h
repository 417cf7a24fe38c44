#pragma once
// The collective operations vlmt needs, behind one interface so that the trunk's gradients can
// go over NCCL on GPUs and MPI on CPUs, while small control messages (DSG states, signal flags,
// validation sums) always go over MPI. Implementations: LocalCommunicator (one process),
// MpiCommunicator (CPU tensors), NcclCommunicator (CUDA tensors, built with VLMT_WITH_CUDA).
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace vlmt {

enum class ReduceOp { kSum, kMax, kMin };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;

  // In-place on a contiguous tensor of the backend's device.
  virtual void all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::kSum) = 0;
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;

  // Small host-side helpers built on the above (always exact, always collective).
  double all_reduce_scalar(double value, ReduceOp op = ReduceOp::kSum);
  std::vector<double> all_reduce_vector(std::vector<double> values, ReduceOp op = ReduceOp::kSum);
  std::string broadcast_string(const std::string& value, int root);
};

}  // namespace vlmt

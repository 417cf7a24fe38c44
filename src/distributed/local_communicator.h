#pragma once
// The communicator of a one-process run: every collective is the identity.
#include "distributed/communicator.h"

namespace vlmt {

class LocalCommunicator : public Communicator {
 public:
  explicit LocalCommunicator(torch::Device device = torch::kCPU) : device_(device) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  torch::Device device() const override { return device_; }
  void all_reduce(torch::Tensor& tensor, ReduceOp op) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void barrier() override {}

 private:
  torch::Device device_;
};

}  // namespace vlmt

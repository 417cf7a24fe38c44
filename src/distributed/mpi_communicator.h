#pragma once
// Collectives over MPI on CPU tensors (float32/64, int32/64, uint8), on a private duplicate of
// the parent communicator so that they never interleave with other MPI traffic.
#include <mpi.h>

#include "distributed/communicator.h"

namespace vlmt {

class MpiCommunicator : public Communicator {
 public:
  // `thread_level` is what MPI_Init_thread granted (decides callable_from_any_thread).
  MpiCommunicator(MPI_Comm parent, int thread_level);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  torch::Device device() const override { return torch::kCPU; }
  bool callable_from_any_thread() const override { return thread_level_ == MPI_THREAD_MULTIPLE; }
  void all_reduce(torch::Tensor& tensor, ReduceOp op) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void barrier() override;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int thread_level_ = MPI_THREAD_SINGLE;
};

}  // namespace vlmt

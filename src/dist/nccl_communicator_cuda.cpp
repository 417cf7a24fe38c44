// NCCL communicator (compiled only with -DVLMT_WITH_CUDA=ON). Collectives are enqueued on the
// caller's current CUDA stream, so they order correctly with the kernels that produced the
// gradients and need no host synchronisation; errors are checked synchronously (return codes)
// and asynchronously (ncclCommGetAsyncError after each call; on failure the communicator is
// aborted so that no rank waits forever in a dead collective).
#ifdef VLMT_WITH_CUDA

#include "dist/nccl_communicator.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include "core/error.h"
#include "core/log.h"
#include "dist/mpi_check.h"
#include "dist/runtime.h"

namespace vlmt {
namespace {

ncclDataType_t nccl_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kFloat16: return ncclFloat16;
#if defined(NCCL_VERSION_CODE) && NCCL_VERSION_CODE >= NCCL_VERSION(2, 10, 0)
    case torch::kBFloat16: return ncclBfloat16;
#endif
    case torch::kInt64: return ncclInt64;
    case torch::kInt32: return ncclInt32;
    case torch::kUInt8: return ncclUint8;
    default:
      throw Error(ExitCode::kFailure, cat("NcclCommunicator: unsupported dtype ", type));
  }
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kMin: return ncclMin;
  }
  return ncclSum;
}

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc == ncclSuccess) return;
  throw Error(ExitCode::kFailure, cat(what, " failed: ", ncclGetErrorString(rc)));
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(DistRuntime& runtime, torch::Device device)
      : rank_(runtime.rank()), size_(runtime.size()), device_(device) {
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    check_mpi(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, runtime.world()), "MPI_Bcast(ncclUniqueId)");
    c10::cuda::CUDAGuard guard(device_);
    check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
  }

  ~NcclCommunicator() override {
    if (comm_ == nullptr) return;
    if (aborted_) return;
    ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  torch::Device device() const override { return device_; }

  void all_reduce(torch::Tensor& tensor, ReduceOp op) override {
    check_tensor(tensor, "all_reduce");
    c10::cuda::CUDAGuard guard(device_);
    const auto stream = c10::cuda::getCurrentCUDAStream(device_.index());
    check_nccl(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                             nccl_type(tensor.scalar_type()), nccl_op(op), comm_, stream.stream()),
               "ncclAllReduce");
    poll_async_error();
  }

  void broadcast(torch::Tensor& tensor, int root) override {
    check_tensor(tensor, "broadcast");
    if (root < 0 || root >= size_) {
      throw Error(ExitCode::kFailure, cat("broadcast root ", root, " outside 0..", size_ - 1));
    }
    c10::cuda::CUDAGuard guard(device_);
    const auto stream = c10::cuda::getCurrentCUDAStream(device_.index());
    check_nccl(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                             nccl_type(tensor.scalar_type()), root, comm_, stream.stream()),
               "ncclBroadcast");
    poll_async_error();
  }

  // A one-element all-reduce, then wait for it: every rank has reached this point.
  void barrier() override {
    auto token = torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt32).device(device_));
    all_reduce(token, ReduceOp::kSum);
    c10::cuda::CUDAGuard guard(device_);
    const auto stream = c10::cuda::getCurrentCUDAStream(device_.index());
    if (cudaStreamSynchronize(stream.stream()) != cudaSuccess) {
      throw Error(ExitCode::kFailure, "cudaStreamSynchronize failed in NCCL barrier");
    }
    poll_async_error();
  }

 private:
  void check_tensor(const torch::Tensor& tensor, const char* what) const {
    if (!tensor.defined() || !tensor.is_cuda() || tensor.device() != device_ ||
        !tensor.is_contiguous()) {
      throw Error(ExitCode::kFailure, cat("NcclCommunicator::", what,
                                          " needs a contiguous tensor on ", device_.str()));
    }
  }

  // A peer that died or a network failure shows up here, not in the enqueue's return code.
  void poll_async_error() {
    ncclResult_t async = ncclSuccess;
    check_nccl(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
    if (async == ncclSuccess) return;
    ncclCommAbort(comm_);
    aborted_ = true;
    throw Error(ExitCode::kFailure, cat("NCCL asynchronous error on rank ", rank_, ": ",
                                        ncclGetErrorString(async), "; communicator aborted"));
  }

  ncclComm_t comm_ = nullptr;
  int rank_;
  int size_;
  torch::Device device_;
  bool aborted_ = false;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(DistRuntime& runtime, torch::Device device) {
  return std::make_unique<NcclCommunicator>(runtime, device);
}

}  // namespace vlmt

#endif  // VLMT_WITH_CUDA

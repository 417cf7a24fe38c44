// NCCL communicator (compiled only with -DVLMT_WITH_CUDA=ON). Collectives are enqueued on the
// caller's current CUDA stream (the gradient synchroniser makes that its communication stream),
// so they order with the kernels that produced the gradients and need no host synchronisation.
// Failures never become hangs, and results of a failed collective are never used:
//  * the communicator is non-blocking (config.blocking = 0): initialisation, finalisation and an
//    enqueue that must wait answer "in progress" and are polled with a deadline of
//    VLMT_NCCL_TIMEOUT_S seconds (default 600), then aborted with an error naming the timeout;
//  * every NCCL call, ncclCommAbort included, goes through one CollectiveGuard
//    (distributed/collective_guard.h), which serialises them, marks each collective's completion with a
//    CUDA event, and lets a watchdog thread abort a collective not complete within the timeout
//    or an asynchronous error; ncclCommAbort ends the stuck kernels, the next call throws
//    vlmt::Error, and run_main takes the job down (distributed/runtime.h);
//  * wait_complete() (the gradient synchroniser's, before .grad is written) throws when the
//    communicator was aborted, so partly reduced gradients never reach the optimiser.
#ifdef VLMT_WITH_CUDA

#include "distributed/nccl_communicator.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/cuda_check.h"
#include "core/env.h"
#include "core/error.h"
#include "core/log.h"
#include "distributed/collective_guard.h"
#include "distributed/mpi_check.h"
#include "distributed/runtime.h"

#if NCCL_VERSION_CODE < NCCL_VERSION(2, 14, 0)
#error "vlmt needs NCCL >= 2.14 (non-blocking communicators: ncclCommInitRankConfig, ncclCommFinalize)"
#endif

namespace vlmt {
namespace {

ncclDataType_t nccl_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kFloat16: return ncclFloat16;
    case torch::kBFloat16: return ncclBfloat16;
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

CommStatus nccl_status(ncclResult_t rc) {
  if (rc == ncclSuccess) return {CommProgress::kReady, ""};
  if (rc == ncclInProgress) return {CommProgress::kInProgress, ""};
  return {CommProgress::kFailed, ncclGetErrorString(rc)};
}

double nccl_timeout_seconds() { return env::seconds("VLMT_NCCL_TIMEOUT_S", 600.0, 1.0, 7 * 86400.0); }

// The completion of the work enqueued so far on the current stream.
class CudaMark : public CompletionMark {
 public:
  CudaMark() {
    check_cuda(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(event_, c10::cuda::getCurrentCUDAStream().stream()), "cudaEventRecord");
  }
  ~CudaMark() override { cudaEventDestroy(event_); }
  CommStatus query() override {
    const cudaError_t state = cudaEventQuery(event_);
    if (state == cudaSuccess) return {CommProgress::kReady, ""};
    if (state == cudaErrorNotReady) return {CommProgress::kInProgress, ""};
    return {CommProgress::kFailed, cat("CUDA error ", cudaGetErrorString(state))};
  }

 private:
  cudaEvent_t event_ = nullptr;
};

// DeviceCommOps on one ncclComm_t; the guard serialises the calls.
class NcclOps : public DeviceCommOps {
 public:
  ncclComm_t comm = nullptr;

  CommStatus async_status() override {
    ncclResult_t async = ncclSuccess;
    const ncclResult_t rc = ncclCommGetAsyncError(comm, &async);
    return nccl_status(rc != ncclSuccess ? rc : async);
  }
  std::unique_ptr<CompletionMark> mark() override { return std::make_unique<CudaMark>(); }
  void abort() override {
    if (comm) ncclCommAbort(comm);
    comm = nullptr;
  }
  CommStatus finalize() override { return nccl_status(ncclCommFinalize(comm)); }
  void destroy() override {
    ncclCommDestroy(comm);
    comm = nullptr;
  }
};

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(DistRuntime& runtime, torch::Device device)
      : rank_(runtime.rank()), size_(runtime.size()), device_(device),
        timeout_s_(nccl_timeout_seconds()), guard_(ops_, rank_, timeout_s_) {
    // Rank 0 makes the id; MPI (already up, and carrying the control collectives) delivers it.
    ncclUniqueId id;
    if (rank_ == 0) {
      const CommStatus made = nccl_status(ncclGetUniqueId(&id));
      if (made.progress != CommProgress::kReady)
        throw Error(ExitCode::kFailure, cat("ncclGetUniqueId failed: ", made.error));
    }
    check_mpi(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, runtime.world()), "MPI_Bcast(ncclUniqueId)");
    c10::cuda::CUDAGuard guard(device_);
    // Non-blocking: initialisation returns at once and is polled, so a bootstrap that never
    // completes ends with an error instead of hanging until the job's time limit.
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    guard_.settle("NCCL initialisation (ncclCommInitRankConfig)",
                  nccl_status(ncclCommInitRankConfig(&ops_.comm, size_, id, rank_, &config)),
                  "a rank did not start or cannot reach rank 0's bootstrap address (check "
                  "NCCL_SOCKET_IFNAME; NCCL_DEBUG=INFO says more)");
    int version = 0;
    ncclGetVersion(&version);
    // Only one libnccl.so.2 is ever loaded (cmake/VlmtNccl.cmake): if it is not the one whose
    // headers vlmt was compiled with, LibTorch and vlmt disagree about which NCCL they use.
    if (version != NCCL_VERSION_CODE)
      log::warn(cat("the loaded NCCL is version ", version, " but vlmt was compiled against ",
                    NCCL_VERSION_CODE, " (two NCCL installations?); see docs/PERFORMANCE.md"));
    log::info0(cat("NCCL ", version, " communicator on ", device_.str(), " over ", size_,
                   " rank(s), timeout ", timeout_s_, " s (VLMT_NCCL_TIMEOUT_S)"));
    watchdog_ = std::thread(&NcclCommunicator::watchdog_loop, this);
  }

  // Destroys the communicator only on an orderly exit with every collective complete; aborts it
  // when an exception is unwinding through its owner or it is unhealthy (distributed/comm_ending.h), so
  // a failing rank never waits for peers that will not come.
  ~NcclCommunicator() override {
    stop_.store(true);
    if (watchdog_.joinable()) watchdog_.join();
    c10::cuda::CUDAGuard guard(device_);
    guard_.end(unwinding_.unwinding());
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  torch::Device device() const override { return device_; }

  void all_reduce(torch::Tensor& tensor, ReduceOp op) override {
    check_tensor(tensor, "all_reduce");
    c10::cuda::CUDAGuard guard(device_);
    guard_.issue("ncclAllReduce", [&]() {
      return nccl_status(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                                       nccl_type(tensor.scalar_type()), nccl_op(op), ops_.comm,
                                       c10::cuda::getCurrentCUDAStream().stream()));
    });
  }

  void broadcast(torch::Tensor& tensor, int root) override {
    check_tensor(tensor, "broadcast");
    if (root < 0 || root >= size_) {
      throw Error(ExitCode::kFailure, cat("broadcast root ", root, " outside 0..", size_ - 1));
    }
    c10::cuda::CUDAGuard guard(device_);
    guard_.issue("ncclBroadcast", [&]() {
      return nccl_status(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                                       nccl_type(tensor.scalar_type()), root, ops_.comm,
                                       c10::cuda::getCurrentCUDAStream().stream()));
    });
  }

  // A one-element all-reduce, then wait for it (bounded by the timeout): every rank is here.
  void barrier() override {
    auto token = torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt32).device(device_));
    all_reduce(token, ReduceOp::kSum);
    wait_complete();
  }

  void wait_complete() override {
    c10::cuda::CUDAGuard guard(device_);
    guard_.wait_complete();
  }

 private:
  void check_tensor(const torch::Tensor& tensor, const char* what) const {
    if (!tensor.defined() || !tensor.is_cuda() || tensor.device() != device_ ||
        !tensor.is_contiguous()) {
      throw Error(ExitCode::kFailure, cat("NcclCommunicator::", what,
                                          " needs a contiguous tensor on ", device_.str()));
    }
  }

  void watchdog_loop() {
    try {
      c10::cuda::CUDAGuard guard(device_);
      while (!stop_.load() && guard_.watch_once()) {
        if (guard_.stuck_in_call()) {
          log::error(cat("NCCL on rank ", rank_, ": a call into NCCL has not returned within ", timeout_s_,
                         " s (VLMT_NCCL_TIMEOUT_S) and cannot be aborted while it runs; ending this "
                         "process so that the launcher ends the job"));
          std::_Exit(static_cast<int>(ExitCode::kFailure));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    } catch (const std::exception& e) {
      log::error(cat("NCCL on rank ", rank_, ": watchdog failed: ", e.what()));
    }
  }

  int rank_;
  int size_;
  torch::Device device_;
  double timeout_s_;
  NcclOps ops_;
  CollectiveGuard guard_;  // every call on ops_.comm goes through it
  std::atomic<bool> stop_{false};
  std::thread watchdog_;
  UnwindingProbe unwinding_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(DistRuntime& runtime, torch::Device device) {
  return std::make_unique<NcclCommunicator>(runtime, device);
}

}  // namespace vlmt

#endif  // VLMT_WITH_CUDA

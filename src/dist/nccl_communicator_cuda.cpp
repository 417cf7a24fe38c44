// NCCL communicator (compiled only with -DVLMT_WITH_CUDA=ON). Collectives are enqueued on the
// caller's current CUDA stream, so they order correctly with the kernels that produced the
// gradients and need no host synchronisation. Failures never become hangs:
//  * return codes of every NCCL call are checked;
//  * ncclCommGetAsyncError is polled after each call (a dead peer or network error shows up
//    there, not in the enqueue's return code);
//  * a watchdog thread records a CUDA event after each collective and polls it; a collective
//    that has not completed after VLMT_NCCL_TIMEOUT_S seconds (default 600), or an asynchronous
//    error, makes it call ncclCommAbort, which ends the stuck kernels, so a host thread blocked
//    on the stream returns; the next call on this communicator then throws vlmt::Error and
//    run_main takes the job down (dist/runtime.h).
#ifdef VLMT_WITH_CUDA

#include "dist/nccl_communicator.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include "core/env.h"
#include "core/error.h"
#include "core/log.h"
#include "dist/comm_ending.h"
#include "dist/mpi_check.h"
#include "dist/runtime.h"

namespace vlmt {
namespace {

using Clock = std::chrono::steady_clock;

ncclDataType_t nccl_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kFloat16: return ncclFloat16;
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 10, 0)
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

void check_cuda(cudaError_t rc, const char* what) {
  if (rc == cudaSuccess) return;
  throw Error(ExitCode::kFailure, cat(what, " failed: ", cudaGetErrorString(rc)));
}

double nccl_timeout_seconds() { return env::seconds("VLMT_NCCL_TIMEOUT_S", 600.0, 1.0, 7 * 86400.0); }

class NcclCommunicator : public Communicator, private EndableComm {
 public:
  NcclCommunicator(DistRuntime& runtime, torch::Device device)
      : rank_(runtime.rank()), size_(runtime.size()), device_(device),
        timeout_s_(nccl_timeout_seconds()) {
    // Rank 0 makes the id; MPI (already up, and carrying the control collectives) delivers it.
    ncclUniqueId id;
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    check_mpi(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, runtime.world()), "MPI_Bcast(ncclUniqueId)");
    c10::cuda::CUDAGuard guard(device_);
    check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
    int version = 0;
    check_nccl(ncclGetVersion(&version), "ncclGetVersion");
    // Only one libnccl.so.2 is ever loaded (cmake/VlmtNccl.cmake): if it is not the one whose
    // headers vlmt was compiled with, LibTorch and vlmt disagree about which NCCL they use.
    if (version != NCCL_VERSION_CODE)
      log::warn(cat("the loaded NCCL is version ", version, " but vlmt was compiled against ",
                    NCCL_VERSION_CODE, " (two NCCL installations?); see docs/PERFORMANCE.md"));
    log::info0(cat("NCCL ", version, " communicator on ", device_.str(), " over ", size_,
                   " rank(s), collective timeout ", timeout_s_, " s (VLMT_NCCL_TIMEOUT_S)"));
    watchdog_ = std::thread(&NcclCommunicator::watchdog_loop, this);
  }

  // Destroys the communicator only on an orderly exit with every collective complete; aborts it
  // when an exception is unwinding through its owner or it is unhealthy (dist/comm_ending.h), so
  // a failing rank never waits in ncclCommDestroy for peers that will not come.
  ~NcclCommunicator() override {
    stop_.store(true);
    if (watchdog_.joinable()) watchdog_.join();
    c10::cuda::CUDAGuard guard(device_);
    std::lock_guard<std::mutex> lock(mutex_);
    end_communicator(*this, unwinding_.unwinding());
    for (auto& p : pending_) cudaEventDestroy(p.done);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  torch::Device device() const override { return device_; }

  void all_reduce(torch::Tensor& tensor, ReduceOp op) override {
    check_tensor(tensor, "all_reduce");
    run("ncclAllReduce", [&](cudaStream_t stream) {
      return ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           nccl_type(tensor.scalar_type()), nccl_op(op), comm_, stream);
    });
  }

  void broadcast(torch::Tensor& tensor, int root) override {
    check_tensor(tensor, "broadcast");
    if (root < 0 || root >= size_) {
      throw Error(ExitCode::kFailure, cat("broadcast root ", root, " outside 0..", size_ - 1));
    }
    run("ncclBroadcast", [&](cudaStream_t stream) {
      return ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           nccl_type(tensor.scalar_type()), root, comm_, stream);
    });
  }

  // A one-element all-reduce, then wait for it (bounded by the watchdog): every rank is here.
  void barrier() override {
    auto token = torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt32).device(device_));
    all_reduce(token, ReduceOp::kSum);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        throw_if_aborted();
        if (pending_.empty()) return;  // the watchdog saw every collective complete
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  struct Pending {
    cudaEvent_t done;
    Clock::time_point issued;
    const char* what;
  };

  void check_tensor(const torch::Tensor& tensor, const char* what) const {
    if (!tensor.defined() || !tensor.is_cuda() || tensor.device() != device_ ||
        !tensor.is_contiguous()) {
      throw Error(ExitCode::kFailure, cat("NcclCommunicator::", what,
                                          " needs a contiguous tensor on ", device_.str()));
    }
  }

  // Enqueues one collective on the current stream, then hands its completion to the watchdog.
  template <typename Enqueue>
  void run(const char* what, Enqueue enqueue) {
    c10::cuda::CUDAGuard guard(device_);
    const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device_.index()).stream();
    std::lock_guard<std::mutex> lock(mutex_);
    throw_if_aborted();
    busy_since_ns_.store(Clock::now().time_since_epoch().count());
    const ncclResult_t rc = enqueue(stream);
    busy_since_ns_.store(0);
    throw_if_aborted();  // the watchdog aborted a blocked enqueue: comm_ is gone
    check_nccl(rc, what);
    Pending p{nullptr, Clock::now(), what};
    check_cuda(cudaEventCreateWithFlags(&p.done, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventRecord(p.done, stream), "cudaEventRecord");
    pending_.push_back(p);
    poll_async_error_locked();
  }

  void throw_if_aborted() const {
    if (aborted_.load())
      throw Error(ExitCode::kFailure, cat("NCCL communicator on rank ", rank_, " was aborted: ",
                                          abort_reason_));
  }

  void poll_async_error_locked() {
    ncclResult_t async = ncclSuccess;
    const ncclResult_t rc = ncclCommGetAsyncError(comm_, &async);
    if (rc != ncclSuccess) async = rc;
    if (async == ncclSuccess) return;
    abort(cat("asynchronous error ", ncclGetErrorString(async)));
    throw_if_aborted();
  }

  // Once: ncclCommAbort ends the communicator's kernels, so nothing waits on them forever.
  void abort(const std::string& reason) {
    bool expected = false;
    if (!aborting_.compare_exchange_strong(expected, true)) return;
    abort_reason_ = reason;
    log::error(cat("NCCL on rank ", rank_, ": ", reason, "; aborting the communicator"));
    ncclCommAbort(comm_);
    aborted_.store(true);
  }

  // EndableComm, called by the destructor with mutex_ held and the watchdog stopped.
  CommHealth health() override {
    CommHealth h;
    h.aborted = aborted_.load();
    if (h.aborted) return h;
    ncclResult_t async = ncclSuccess;
    h.async_error = ncclCommGetAsyncError(comm_, &async) != ncclSuccess || async != ncclSuccess;
    for (const auto& p : pending_) h.in_flight += cudaEventQuery(p.done) == cudaSuccess ? 0 : 1;
    return h;
  }
  void destroy_comm() override { ncclCommDestroy(comm_); }
  void abort_comm() override {
    log::warn(cat("NCCL on rank ", rank_, ": ending the communicator with ncclCommAbort (an error "
                  "is unwinding, or a collective is unfinished)"));
    ncclCommAbort(comm_);
    aborted_.store(true);
  }

  void watchdog_loop() {
    try {
      c10::cuda::CUDAGuard guard(device_);
      while (!stop_.load() && !aborted_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        watch_once();
      }
    } catch (const std::exception& e) {
      abort(cat("watchdog failed: ", e.what()));
    }
  }

  void watch_once() {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      // An enqueue that blocks (connection set-up to a dead peer) holds the lock: time it.
      const auto since = busy_since_ns_.load();
      const auto now = Clock::now().time_since_epoch().count();
      if (since != 0 && std::chrono::duration<double>(Clock::duration(now - since)).count() >
                            timeout_s_)
        abort(cat("a collective could not be enqueued within ", timeout_s_, " s"));
      return;
    }
    while (!pending_.empty()) {
      Pending& p = pending_.front();
      const cudaError_t state = cudaEventQuery(p.done);
      if (state == cudaSuccess) {
        cudaEventDestroy(p.done);
        pending_.pop_front();
        continue;
      }
      if (state != cudaErrorNotReady) {
        abort(cat(p.what, ": CUDA error ", cudaGetErrorString(state)));
        return;
      }
      const double age = std::chrono::duration<double>(Clock::now() - p.issued).count();
      if (age > timeout_s_) {
        abort(cat(p.what, " did not complete within ", timeout_s_,
                  " s (a rank died or stopped calling collectives)"));
        return;
      }
      break;
    }
    ncclResult_t async = ncclSuccess;
    if (ncclCommGetAsyncError(comm_, &async) == ncclSuccess && async != ncclSuccess)
      abort(cat("asynchronous error ", ncclGetErrorString(async)));
  }

  ncclComm_t comm_ = nullptr;
  int rank_;
  int size_;
  torch::Device device_;
  double timeout_s_;
  std::mutex mutex_;             // comm_ calls and pending_
  std::deque<Pending> pending_;  // collectives not yet seen complete, in issue order
  std::atomic<int64_t> busy_since_ns_{0};
  std::atomic<bool> aborting_{false}, aborted_{false}, stop_{false};
  std::string abort_reason_;
  std::thread watchdog_;
  UnwindingProbe unwinding_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(DistRuntime& runtime, torch::Device device) {
  return std::make_unique<NcclCommunicator>(runtime, device);
}

}  // namespace vlmt

#endif  // VLMT_WITH_CUDA

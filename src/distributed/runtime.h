#pragma once
// One MPI process's view of the job: MPI initialisation and finalisation (RAII), world rank and
// size, the node-local rank used to pick a GPU, per-rank seeds, and a hang-free way to stop.
// Launchers: `mpirun -n N`, `srun` (PMIx) or a plain `./prog` (singleton MPI, size 1).
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <torch/torch.h>

#include "distributed/device_choice.h"

namespace vlmt {

class DistRuntime {
 public:
  // Initialises MPI (thread level FUNNELED or higher) unless something already did; only the
  // runtime that initialised MPI finalises it. At most one DistRuntime should exist at a time.
  DistRuntime(int* argc, char*** argv);
  DistRuntime() : DistRuntime(nullptr, nullptr) {}
  ~DistRuntime();
  DistRuntime(const DistRuntime&) = delete;
  DistRuntime& operator=(const DistRuntime&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Rank among the processes on this node, as the launcher numbered them (distributed/local_rank.h).
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  bool is_root() const { return rank_ == 0; }
  MPI_Comm world() const { return MPI_COMM_WORLD; }
  // The thread level MPI granted (MPI_THREAD_FUNNELED or MPI_THREAD_MULTIPLE).
  int thread_level() const { return thread_level_; }

  // The seeds of a run from train.seed, one rule each; the trainer and the evaluate job call
  // these (no second copies):
  //   model_seed       every rank builds the model from the same seed (identical initial weights)
  //   dropout_seed     each rank's own torch stream once the model is built (dropout masks)
  //   validation_seed  the batch rng of validation and evaluation, the same at every validation
  // Data order is derived from (seed, epoch, batch, rank) by the sampler and loader
  // (data/sampler.h: batch_seed), so ranks draw different samples.
  static int64_t model_seed(int64_t seed) { return seed; }
  static int64_t dropout_seed(int64_t seed, int rank) { return seed * 7919 + 17 + rank; }
  static uint64_t validation_seed(int64_t seed, int rank) { return static_cast<uint64_t>(seed) * 31 + rank; }
  static void seed_model_init(int64_t seed) { torch::manual_seed(model_seed(seed)); }

  // The device of this rank (distributed/device_choice.h: decide_device; `asked_by` names the setting
  // that asked, for the messages): cuda:<local rank> (distributed/local_rank.h:
  // cuda_device_for_local_rank), made the current device of the calling thread, or the CPU.
  // Collective over the node: the ranks exchange their GPUs' PCI bus ids (check_node_devices).
  // More ranks on the node than visible GPUs, or two ranks on one GPU, is an Error on every rank.
  torch::Device select_device(DeviceRequest request, const std::string& asked_by) const;

  // Collective over the ranks of this node: gathers every rank's device identity (a GPU's PCI bus
  // id, "" for the CPU) and throws check_distinct_devices' Error, on every rank, when two ranks
  // drive one GPU. select_device passes the real bus id; tests pass made-up ones.
  void check_node_devices(const std::string& my_device_id) const;

  // Kills every rank of the job with `code` (MPI_Abort); never returns.
  [[noreturn]] void abort(int code) const;

  // Exit agreement used by run_main: a barrier on a private communicator that waits at most
  // `grace_seconds` (negative = forever), then the max of every rank's code. Returns false when
  // the barrier did not complete in time (some rank is still busy or stuck).
  bool agree_on_exit_code(int& code, double grace_seconds);

 private:
  void find_local_rank();

  bool owns_mpi_ = false;
  int thread_level_ = MPI_THREAD_SINGLE;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  MPI_Comm node_comm_ = MPI_COMM_NULL;  // the ranks of this node (MPI_COMM_TYPE_SHARED)
  MPI_Comm exit_comm_ = MPI_COMM_NULL;
};

// The body of every distributed executable. Creates the DistRuntime, runs `body`, and turns
// its outcome into one exit code for all ranks without a hang:
//  * body returns c on every rank               -> every rank exits with max(c)
//  * vlmt::Error e (other exceptions: code 1) is thrown on every rank -> each prints
//    "[rank r/n] message" and all exit with the largest code
//  * thrown on some ranks while the others are still working -> the failing rank waits
//    VLMT_ABORT_GRACE_S seconds (default 10) for the others to reach the exit, then calls
//    MPI_Abort(code): the launcher kills the job and (Open MPI, Slurm) reports that code.
int run_main(int argc, char** argv, const std::function<int(DistRuntime&)>& body);

// Logs the exception being handled as run_main would and marks it reported, so run_main does not
// log it again. For bodies whose objects can block or fail while being destroyed (an NCCL
// communicator, loader threads): catch inside their scope, call this, rethrow (`throw;`), and the
// cause is the first thing the failing rank prints.
void report_error_now(const std::exception& e);

// What a helper thread that touches the device (a loader worker pinning batches) runs first, so
// that its CUDA calls go to `device` rather than to GPU 0; empty for the CPU.
std::function<void()> thread_device_setup(const torch::Device& device);

}  // namespace vlmt

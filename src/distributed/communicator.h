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
  // Where the tensors given to all_reduce/broadcast must live.
  virtual torch::Device device() const = 0;
  // Whether collectives may be issued from a thread other than the one that created the
  // communicator (autograd worker threads call the gradient synchroniser's hooks).
  virtual bool callable_from_any_thread() const { return true; }

  // In-place on a contiguous tensor of the backend's device.
  virtual void all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::kSum) = 0;
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;
  // Returns once every collective this rank issued has completed; throws vlmt::Error when one
  // failed or the communicator was aborted (its output, e.g. partly reduced gradients, must not
  // be used). MPI and local collectives are complete when they return; NCCL's run on a stream.
  virtual void wait_complete() {}

  // Small host-side helpers built on the above (always exact, always collective).
  double all_reduce_scalar(double value, ReduceOp op = ReduceOp::kSum);
  std::vector<double> all_reduce_vector(std::vector<double> values, ReduceOp op = ReduceOp::kSum);
  std::string broadcast_string(const std::string& value, int root);
};

class DistRuntime;

// The backends by name (dist.backend), the one list of them: "auto" (local for one rank, nccl for
// a CUDA device, mpi otherwise), "mpi", "nccl", "local". The stages check a config's name
// against it (train/config_checks.h).
const std::vector<std::string>& communicator_backend_names();
// Throws ConfigError "\"x\" is not one of: auto, mpi, nccl, local" for a name that is no backend;
// the stage asks it while the config loads (train/config_checks.h), make_communicator again.
void check_backend_name(const std::string& backend);

// Throws ConfigError for an unknown name, a backend that does not fit the device, or "local"
// with more than one rank.
std::unique_ptr<Communicator> make_communicator(const std::string& backend, DistRuntime& runtime,
                                                torch::Device device);

}  // namespace vlmt

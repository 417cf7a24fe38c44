#pragma once
// Data-parallel gradient averaging. Each step the caller names the parameters to synchronise
// (the shared trunk plus the active task's head and task token); nothing else is ever reduced.
// Gradients are copied into flat buckets of about `bucket_mb` megabytes, filled in reverse
// parameter order (the order backward produces them), and a bucket is all-reduced as soon as
// its last gradient arrives, overlapping communication with the rest of backward. Buckets are
// always reduced in index order, so every rank issues the same sequence of collectives even if
// gradients arrive in a different order or not at all.
//
//   sync.begin_step(params);   loss.backward();   sync.finish();   optimizer.step();
//
// After finish(), param.grad holds the average over ranks of the gradients produced between
// begin_step and finish (it replaces whatever .grad held). A parameter that got no gradient on
// any rank keeps its .grad untouched (usually undefined, so optimisers skip it); one that got a
// gradient on some ranks only counts as zero on the others.
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "dist/communicator.h"

namespace vlmt {

struct NamedParameter {
  std::string name;
  torch::Tensor tensor;  // a leaf that requires grad
};

class GradientSynchronizer {
 public:
  explicit GradientSynchronizer(Communicator& comm, double bucket_mb = 25.0);
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Before backward. `backward_passes` > 1 accumulates several backward calls (micro-batches)
  // into one reduction: a bucket is launched once each of its gradients arrived that often.
  void begin_step(const std::vector<NamedParameter>& params, int backward_passes = 1);
  // After backward: reduces the buckets still pending and writes the averages into .grad.
  void finish();

  int num_buckets() const { return static_cast<int>(buckets_.size()); }
  // How many buckets of the last step were reduced inside backward (overlap achieved).
  int buckets_reduced_in_backward() const { return reduced_in_backward_; }

 private:
  struct Slot {
    NamedParameter param;
    int bucket = 0;
    int64_t offset = 0;
    int arrivals = 0;
  };
  struct Bucket {
    torch::Tensor flat;
    int pending = 0;  // slots that still expect gradients
  };

  void build_buckets(const std::vector<NamedParameter>& params);
  void ensure_hook(const torch::Tensor& param);
  void on_gradient(size_t hook_id, const torch::Tensor& grad);
  void reduce_ready_buckets();
  void reduce_bucket(Bucket& bucket);

  Communicator& comm_;
  int64_t bucket_bytes_;
  int backward_passes_ = 1;
  bool in_step_ = false;
  std::thread::id step_thread_;
  std::mutex mutex_;  // hooks of different devices may run on different autograd threads

  // Hooks are registered once per parameter and stay for the synchroniser's lifetime (LibTorch
  // never shrinks a tensor's hook list); an inactive hook does nothing.
  struct Hook {
    torch::Tensor param;
    unsigned handle;
    int slot;  // index into slots_ this step, -1 when the parameter is not synchronised
  };
  std::vector<Hook> hooks_;
  std::unordered_map<const void*, size_t> hook_of_param_;

  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  size_t next_bucket_ = 0;  // buckets are reduced strictly in this order
  int reduced_in_backward_ = 0;
};

// Non-overlapped reference: averages each parameter's .grad over ranks, one collective per
// parameter, with the same rules for missing gradients as GradientSynchronizer.
void all_reduce_gradients(const std::vector<NamedParameter>& params, Communicator& comm);

}  // namespace vlmt

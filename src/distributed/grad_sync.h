#pragma once
// Data-parallel gradient averaging. Each step the caller names the parameters to synchronise
// (the shared trunk plus the active task's head and task token); nothing else is ever reduced.
// Gradients are copied into flat buckets of about `bucket_mb` megabytes, filled in reverse
// parameter order (the order backward produces them), and a bucket is all-reduced as soon as
// its last gradient arrives, overlapping communication with the rest of backward (on CUDA on a
// communication stream of its own, distributed/comm_streams.h). Buckets are
// always reduced in index order, so every rank issues the same sequence of collectives even if
// gradients arrive in a different order or not at all.
//
// Nothing is rebuilt per step: every parameter gets a fixed place in one flat buffer per dtype
// and device the first time it is listed, and the bucket layout of each distinct parameter list
// (one per task in multi-task training) is built once and reused. The first gradient of a step
// is copied into its place (no zero fill; places without a gradient are zeroed only when their
// bucket is reduced), and after finish() each .grad shares the averaged buffer's memory, so
// nothing is copied back.
//
//   sync.begin_step(params);   loss.backward();   sync.finish();   optimizer.step();
//
// After finish(), param.grad holds the average over ranks of the gradients produced between
// begin_step and finish (it replaces whatever .grad held). A parameter that got no gradient on
// any rank keeps its .grad untouched (usually undefined, so optimisers skip it); one that got a
// gradient on some ranks only counts as zero on the others.
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "distributed/comm_streams.h"
#include "distributed/communicator.h"

namespace vlmt {

struct NamedParameter {
  std::string name;
  torch::Tensor tensor;  // a leaf that requires grad
};

class GradientSynchronizer {
 public:
  // Streams from the communicator's device: a communication stream on CUDA, none on the CPU.
  // bucket_mb > 0 (dist.bucket_mb, checked where the config is read).
  explicit GradientSynchronizer(Communicator& comm, double bucket_mb = 25.0);
  // `streams`: the stream operations (null: collectives inline on the calling thread's stream).
  GradientSynchronizer(Communicator& comm, double bucket_mb, std::unique_ptr<StreamOps> streams);
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Before backward. `backward_passes` > 1 accumulates several backward calls (micro-batches)
  // into one reduction: a bucket is launched once each of its gradients arrived that often.
  void begin_step(const std::vector<NamedParameter>& params, int backward_passes = 1);
  // After backward: reduces the buckets still pending and writes the averages into .grad.
  void finish();

  int num_buckets() const { return layout_ ? static_cast<int>(layout_->buckets.size()) : 0; }
  // Bucket layouts built so far (one per distinct parameter list).
  int num_layouts() const { return static_cast<int>(layouts_.size()); }
  // How many buckets of the last step were reduced inside backward (overlap achieved).
  int buckets_reduced_in_backward() const { return reduced_in_backward_; }

 private:
  // One flat gradient buffer per dtype and device; parameters keep their place in it.
  struct Arena {
    torch::TensorOptions options;
    torch::Tensor flat;
    int64_t numel = 0;  // places handed out (flat may be larger)
  };
  struct Slot {
    NamedParameter param;
    size_t hook = 0;  // index in hooks_, found once when the layout is built
    int arena = 0;
    int64_t offset = 0;  // in the arena
    int bucket = 0;
  };
  struct Bucket {
    int arena = 0;
    int64_t offset = 0, numel = 0;  // a contiguous range of the arena
    int first_slot = 0, slots = 0;  // its slots in the layout
  };
  struct Layout {
    std::vector<Slot> slots;  // in bucket order (reverse parameter order)
    std::vector<Bucket> buckets;
  };

  Layout build_layout(const std::vector<NamedParameter>& params);
  int64_t place_of(const torch::Tensor& param, int* arena);
  torch::Tensor flat_of(const Bucket& bucket);
  torch::Tensor place_view(const Slot& slot);
  torch::Tensor shared_place(const Slot& slot);
  size_t ensure_hook(const torch::Tensor& param);  // registers once; returns its index in hooks_
  void on_gradient(size_t hook_id, const torch::Tensor& grad);
  void reduce_ready_buckets();
  void reduce_bucket(size_t index);

  Communicator& comm_;
  CommStreams streams_;
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
    int slot;  // index into the layout's slots this step, -1 when the parameter is not synchronised
  };
  std::vector<Hook> hooks_;
  std::unordered_map<const void*, size_t> hook_of_param_;

  std::vector<Arena> arenas_;
  std::unordered_map<const void*, std::pair<int, int64_t>> place_of_param_;  // → (arena, offset)
  std::map<std::vector<const void*>, Layout> layouts_;
  const Layout* layout_ = nullptr;  // this step's
  std::vector<int> arrivals_;       // per slot, this step
  std::vector<int> pending_;        // per bucket: slots still expecting gradients
  size_t next_bucket_ = 0;          // buckets are reduced strictly in this order
  int reduced_in_backward_ = 0;
};

// Non-overlapped reference: averages each parameter's .grad over ranks, one collective per
// parameter, with the same rules for missing gradients as GradientSynchronizer.
void all_reduce_gradients(const std::vector<NamedParameter>& params, Communicator& comm);

}  // namespace vlmt

#include "distributed/grad_sync.h"

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

// Collective: which parameters got a gradient on at least one rank.
std::vector<bool> any_rank_has_grad(const std::vector<bool>& local, Communicator& comm) {
  std::vector<double> flags(local.begin(), local.end());
  flags = comm.all_reduce_vector(flags, ReduceOp::kMax);
  std::vector<bool> any(flags.size());
  for (size_t i = 0; i < flags.size(); ++i) any[i] = flags[i] > 0.0;
  return any;
}

// Replaces param.grad by `value` (same shape), reusing the existing gradient's storage.
void set_grad(torch::Tensor& param, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  auto& grad = param.mutable_grad();
  if (grad.defined() && grad.sizes() == value.sizes() && grad.dtype() == value.dtype() &&
      grad.device() == value.device()) {
    grad.copy_(value);
  } else {
    grad = value.clone();
  }
}

}  // namespace

GradientSynchronizer::GradientSynchronizer(Communicator& comm, double bucket_mb)
    : GradientSynchronizer(comm, bucket_mb, make_stream_ops(comm.device())) {}

GradientSynchronizer::GradientSynchronizer(Communicator& comm, double bucket_mb,
                                           std::unique_ptr<StreamOps> streams)
    : comm_(comm), streams_(std::move(streams)), bucket_bytes_(static_cast<int64_t>(bucket_mb * 1024.0 * 1024.0)) {}

GradientSynchronizer::~GradientSynchronizer() {
  for (auto& hook : hooks_) hook.param.remove_hook(hook.handle);
}

size_t GradientSynchronizer::ensure_hook(const torch::Tensor& param) {
  const void* key = param.unsafeGetTensorImpl();
  if (auto it = hook_of_param_.find(key); it != hook_of_param_.end()) return it->second;
  const size_t id = hooks_.size();
  const unsigned handle =
      param.register_hook([this, id](const torch::Tensor& grad) { on_gradient(id, grad); });
  hooks_.push_back(Hook{param, handle, -1});
  hook_of_param_[key] = id;
  return id;
}

int64_t GradientSynchronizer::place_of(const torch::Tensor& param, int* arena) {
  const void* key = param.unsafeGetTensorImpl();
  if (auto it = place_of_param_.find(key); it != place_of_param_.end()) {
    *arena = it->second.first;
    return it->second.second;
  }
  size_t a = 0;
  while (a < arenas_.size() && !(arenas_[a].options.dtype() == param.dtype() &&
                                 arenas_[a].options.device() == param.device()))
    ++a;
  if (a == arenas_.size()) arenas_.push_back(Arena{param.options().requires_grad(false), torch::Tensor(), 0});
  Arena& arena_ref = arenas_[a];
  const int64_t offset = arena_ref.numel;
  arena_ref.numel += param.numel();
  place_of_param_[key] = {static_cast<int>(a), offset};
  *arena = static_cast<int>(a);
  return offset;
}

GradientSynchronizer::Layout GradientSynchronizer::build_layout(const std::vector<NamedParameter>& params) {
  Layout layout;
  std::unordered_map<const void*, int> seen;
  int64_t bytes = 0;
  // Reverse order: the last layers' gradients come first in backward.
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const torch::Tensor& p = it->tensor;
    if (!p.defined() || !p.requires_grad() || !p.is_leaf()) {
      throw Error(ExitCode::kFailure,
                  cat("gradient sync: parameter '", it->name, "' is not a leaf requiring grad"));
    }
    if (!seen.emplace(p.unsafeGetTensorImpl(), 0).second)
      throw Error(ExitCode::kFailure, cat("gradient sync: parameter '", it->name, "' listed twice"));
    Slot slot{*it, ensure_hook(p), 0, 0, 0};
    slot.offset = place_of(p, &slot.arena);
    // A bucket is one contiguous range of one arena, at most bucket_bytes_ (or one parameter).
    const int64_t p_bytes = p.numel() * p.element_size();
    const Bucket* last = layout.buckets.empty() ? nullptr : &layout.buckets.back();
    if (!last || last->arena != slot.arena || last->offset + last->numel != slot.offset ||
        bytes + p_bytes > bucket_bytes_) {
      layout.buckets.push_back(Bucket{slot.arena, slot.offset, 0, static_cast<int>(layout.slots.size()), 0});
      bytes = 0;
    }
    Bucket& bucket = layout.buckets.back();
    bucket.numel += p.numel();
    bucket.slots += 1;
    bytes += p_bytes;
    slot.bucket = static_cast<int>(layout.buckets.size() - 1);
    layout.slots.push_back(std::move(slot));
  }
  // New places: grow the arenas (once per new parameter list, never within a step).
  for (auto& arena : arenas_)
    if (!arena.flat.defined() || arena.flat.numel() < arena.numel) arena.flat = torch::empty({arena.numel}, arena.options);
  return layout;
}

torch::Tensor GradientSynchronizer::flat_of(const Bucket& bucket) {
  return arenas_[bucket.arena].flat.narrow(0, bucket.offset, bucket.numel);
}

torch::Tensor GradientSynchronizer::place_view(const Slot& slot) {
  const torch::Tensor& p = slot.param.tensor;
  return arenas_[slot.arena].flat.narrow(0, slot.offset, p.numel()).view(p.sizes());
}

// The slot's place as a tensor that shares the buffer's storage but is not an autograd view of
// it: optimisers' zero_grad() detaches .grad in place, which LibTorch forbids on views.
torch::Tensor GradientSynchronizer::shared_place(const Slot& slot) {
  const torch::Tensor& flat = arenas_[slot.arena].flat;
  const auto sizes = slot.param.tensor.sizes();
  std::vector<int64_t> strides(sizes.size());
  int64_t stride = 1;
  for (size_t d = sizes.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= sizes[d];
  }
  return torch::empty({0}, flat.options()).set_(flat.storage(), slot.offset, sizes, strides);
}

void GradientSynchronizer::begin_step(const std::vector<NamedParameter>& params,
                                      int backward_passes) {
  if (in_step_) throw Error(ExitCode::kFailure, "gradient sync: begin_step twice without finish");
  if (backward_passes < 1) throw Error(ExitCode::kFailure, "gradient sync: backward_passes < 1");
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const void*> key;
  key.reserve(params.size());
  for (const auto& p : params) key.push_back(p.tensor.defined() ? p.tensor.unsafeGetTensorImpl() : nullptr);
  auto it = layouts_.find(key);
  if (it == layouts_.end()) it = layouts_.emplace(std::move(key), build_layout(params)).first;
  layout_ = &it->second;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layout_->slots.size(); ++i) {
    const Slot& slot = layout_->slots[i];
    hooks_[slot.hook].slot = static_cast<int>(i);
    // A .grad still viewing the buffer (the caller kept last step's gradients) gets its own
    // memory, so that this step's gradients do not write through it.
    torch::Tensor& grad = slot.param.tensor.mutable_grad();
    if (grad.defined() && grad.storage().is_alias_of(arenas_[slot.arena].flat.storage())) grad = grad.clone();
  }
  arrivals_.assign(layout_->slots.size(), 0);
  pending_.clear();
  for (const auto& bucket : layout_->buckets) pending_.push_back(bucket.slots);
  backward_passes_ = backward_passes;
  next_bucket_ = 0;
  reduced_in_backward_ = 0;
  step_thread_ = std::this_thread::get_id();
  in_step_ = true;
}

void GradientSynchronizer::on_gradient(size_t hook_id, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int slot_index = hooks_[hook_id].slot;
  if (!in_step_ || slot_index < 0) return;  // not synchronised this step: stays local
  const Slot& slot = layout_->slots[slot_index];
  int& arrivals = arrivals_[slot_index];
  if (static_cast<size_t>(slot.bucket) < next_bucket_ || arrivals >= backward_passes_) {
    throw Error(ExitCode::kFailure,
                cat("gradient sync: gradient of '", slot.param.name,
                    "' arrived after its bucket was reduced (more backward passes than the ",
                    backward_passes_, " announced to begin_step?)"));
  }
  {
    torch::NoGradGuard no_grad;
    auto place = place_view(slot);
    if (arrivals == 0) place.copy_(grad); else place.add_(grad);
  }
  if (++arrivals == backward_passes_) pending_[slot.bucket] -= 1;
  // MPI with FUNNELED threading may only be called from the thread that owns the step; other
  // autograd threads leave their buckets to finish().
  if (std::this_thread::get_id() == step_thread_ || comm_.callable_from_any_thread()) {
    const size_t before = next_bucket_;
    reduce_ready_buckets();
    reduced_in_backward_ += static_cast<int>(next_bucket_ - before);
  }
}

void GradientSynchronizer::reduce_bucket(size_t index) {
  const Bucket& bucket = layout_->buckets[index];
  torch::NoGradGuard no_grad;
  // Missing gradients count as zeros (only finish() reduces a bucket with missing ones).
  for (int i = bucket.first_slot; i < bucket.first_slot + bucket.slots; ++i)
    if (arrivals_[i] == 0) place_view(layout_->slots[i]).zero_();
  // After the compute stream's work so far (the bucket's gradients in place), on the comm stream.
  streams_.run_collective([&]() {
    auto flat = flat_of(bucket);
    comm_.all_reduce(flat, ReduceOp::kSum);
    flat.div_(comm_.size());
  });
}

void GradientSynchronizer::reduce_ready_buckets() {
  while (next_bucket_ < pending_.size() && pending_[next_bucket_] == 0) reduce_bucket(next_bucket_++);
}

void GradientSynchronizer::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!in_step_) throw Error(ExitCode::kFailure, "gradient sync: finish without begin_step");
  in_step_ = false;
  while (next_bucket_ < pending_.size()) reduce_bucket(next_bucket_++);
  streams_.join();  // what follows on the compute stream (flags, optimiser) sees the averages

  const auto& slots = layout_->slots;
  std::vector<bool> local(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) local[i] = arrivals_[i] > 0;
  const std::vector<bool> any = any_rank_has_grad(local, comm_);
  // Every bucket's collective must have completed on a healthy communicator before a .grad
  // points at the buffer: an aborted all-reduce leaves partial sums there, which the optimiser
  // step and a checkpoint must never see. This throws instead.
  comm_.wait_complete();
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!any[i]) continue;  // no rank produced a gradient: leave .grad as it was
    torch::Tensor param = slots[i].param.tensor;
    param.mutable_grad() = shared_place(slots[i]);  // the average itself, no copy
  }
  for (const Slot& slot : slots) hooks_[slot.hook].slot = -1;
}

void all_reduce_gradients(const std::vector<NamedParameter>& params, Communicator& comm) {
  std::vector<bool> local(params.size());
  for (size_t i = 0; i < params.size(); ++i) local[i] = params[i].tensor.grad().defined();
  const std::vector<bool> any = any_rank_has_grad(local, comm);
  for (size_t i = 0; i < params.size(); ++i) {
    if (!any[i]) continue;
    torch::Tensor param = params[i].tensor;
    torch::Tensor grad = local[i] ? params[i].tensor.grad().detach().contiguous().clone()
                                  : torch::zeros_like(param, param.options().requires_grad(false));
    comm.all_reduce(grad, ReduceOp::kSum);
    grad.div_(comm.size());
    set_grad(param, grad);
  }
}

}  // namespace vlmt

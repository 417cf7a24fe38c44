#include "dist/grad_sync.h"

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
    : comm_(comm), bucket_bytes_(static_cast<int64_t>(bucket_mb * 1024.0 * 1024.0)) {
  if (bucket_mb <= 0) throw ConfigError(cat("dist.bucket_mb must be > 0, got ", bucket_mb));
}

GradientSynchronizer::~GradientSynchronizer() {
  for (auto& hook : hooks_) hook.param.remove_hook(hook.handle);
}

void GradientSynchronizer::ensure_hook(const torch::Tensor& param) {
  const void* key = param.unsafeGetTensorImpl();
  if (hook_of_param_.count(key)) return;
  const size_t id = hooks_.size();
  const unsigned handle =
      param.register_hook([this, id](const torch::Tensor& grad) { on_gradient(id, grad); });
  hooks_.push_back(Hook{param, handle, -1});
  hook_of_param_[key] = id;
}

void GradientSynchronizer::build_buckets(const std::vector<NamedParameter>& params) {
  slots_.clear();
  buckets_.clear();
  std::vector<int64_t> bucket_numel;
  std::vector<torch::TensorOptions> bucket_options;
  int64_t bytes = 0;
  // Reverse order: the last layers' gradients come first in backward.
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const torch::Tensor& p = it->tensor;
    if (!p.defined() || !p.requires_grad() || !p.is_leaf()) {
      throw Error(ExitCode::kFailure,
                  cat("gradient sync: parameter '", it->name, "' is not a leaf requiring grad"));
    }
    ensure_hook(p);
    Hook& hook = hooks_[hook_of_param_.at(p.unsafeGetTensorImpl())];
    if (hook.slot >= 0) {
      throw Error(ExitCode::kFailure,
                  cat("gradient sync: parameter '", it->name, "' listed twice"));
    }
    // A bucket holds one dtype on one device, and at most bucket_bytes_ (or one parameter).
    const int64_t p_bytes = p.numel() * p.element_size();
    const bool same_kind = !bucket_options.empty() && bucket_options.back().dtype() == p.dtype() &&
                           bucket_options.back().device() == p.device();
    if (!same_kind || bytes + p_bytes > bucket_bytes_) {
      buckets_.push_back(Bucket{});
      bucket_numel.push_back(0);
      bucket_options.push_back(p.options().requires_grad(false));
      bytes = 0;
    }
    hook.slot = static_cast<int>(slots_.size());
    slots_.push_back(Slot{*it, static_cast<int>(buckets_.size() - 1), bucket_numel.back(), 0});
    bucket_numel.back() += p.numel();
    buckets_.back().pending += 1;
    bytes += p_bytes;
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    buckets_[b].flat = torch::zeros({bucket_numel[b]}, bucket_options[b]);
  }
}

void GradientSynchronizer::begin_step(const std::vector<NamedParameter>& params,
                                      int backward_passes) {
  if (in_step_) throw Error(ExitCode::kFailure, "gradient sync: begin_step twice without finish");
  if (backward_passes < 1) throw Error(ExitCode::kFailure, "gradient sync: backward_passes < 1");
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& hook : hooks_) hook.slot = -1;
  build_buckets(params);
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
  Slot& slot = slots_[slot_index];
  Bucket& bucket = buckets_[slot.bucket];
  if (static_cast<size_t>(slot.bucket) < next_bucket_ || slot.arrivals >= backward_passes_) {
    throw Error(ExitCode::kFailure,
                cat("gradient sync: gradient of '", slot.param.name,
                    "' arrived after its bucket was reduced (more backward passes than the ",
                    backward_passes_, " announced to begin_step?)"));
  }
  {
    torch::NoGradGuard no_grad;
    bucket.flat.narrow(0, slot.offset, grad.numel()).view(grad.sizes()).add_(grad);
  }
  if (++slot.arrivals == backward_passes_) bucket.pending -= 1;
  // MPI with FUNNELED threading may only be called from the thread that owns the step; other
  // autograd threads leave their buckets to finish().
  if (std::this_thread::get_id() == step_thread_ || comm_.callable_from_any_thread()) {
    const size_t before = next_bucket_;
    reduce_ready_buckets();
    reduced_in_backward_ += static_cast<int>(next_bucket_ - before);
  }
}

void GradientSynchronizer::reduce_bucket(Bucket& bucket) {
  comm_.all_reduce(bucket.flat, ReduceOp::kSum);
  torch::NoGradGuard no_grad;
  bucket.flat.div_(comm_.size());
}

void GradientSynchronizer::reduce_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].pending == 0) {
    reduce_bucket(buckets_[next_bucket_]);
    ++next_bucket_;
  }
}

void GradientSynchronizer::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!in_step_) throw Error(ExitCode::kFailure, "gradient sync: finish without begin_step");
  in_step_ = false;
  // Missing gradients count as zeros: reduce what is left, in order.
  while (next_bucket_ < buckets_.size()) reduce_bucket(buckets_[next_bucket_++]);

  std::vector<bool> local(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) local[i] = slots_[i].arrivals > 0;
  const std::vector<bool> any = any_rank_has_grad(local, comm_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    if (!any[i]) continue;  // no rank produced a gradient: leave .grad as it was
    auto averaged = buckets_[slot.bucket].flat.narrow(0, slot.offset, slot.param.tensor.numel());
    set_grad(slot.param.tensor, averaged.view(slot.param.tensor.sizes()));
  }
  for (auto& hook : hooks_) hook.slot = -1;
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

#pragma once
// bf16 autocast for a region of the forward pass (train.bf16). While a scope is alive, the ops
// LibTorch lists as safe in lower precision (matmul, linear, ...) run in bfloat16 on `device`;
// reductions, softmax and losses stay float32 (LibTorch's autocast lists). Parameters stay
// float32 (the master weights): autocast casts them per op, the casts are cached for the
// scope, and the cache is cleared when the outermost scope ends, so every forward re-reads the
// weights the optimiser just updated. Gradients flow back through the casts in float32.
#include <torch/torch.h>

namespace vlmt {

class AutocastScope {
 public:
  // Does nothing when !enabled. `device`: CPU uses the CPU autocast state, CUDA the GPU one.
  AutocastScope(torch::Device device, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

// `t` in float32 when it is a lower-precision floating tensor (autocast output), else as is.
torch::Tensor to_float32(const torch::Tensor& t);

// Layer norm in float32, as CUDA autocast runs it; LibTorch 1.13's CPU layer norm rejects a
// bf16 input with float32 weights. Used by every LayerNorm of the trunk.
inline torch::Tensor layer_norm_fp32(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  return norm(to_float32(x));
}

}  // namespace vlmt

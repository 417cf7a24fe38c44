#pragma once
// Dropout as the released model applies it: keep each element with probability 1 − p and scale
// the kept ones by 1/(1 − p); identity outside training.
//
// Why not torch::dropout on the CPU: LibTorch 1.13 draws the CPU mask with bernoulli_ (one
// generator call per element; Debian's build has no MKL), then divides the mask and multiplies.
// Profiled on the released code's training step (tiny preset, VQA, docs/PERFORMANCE.md) that is
// about 40 % of the step. The fused kernel makes one pass forward (mask and output) and one
// backward. Its mask comes from a counter-based hash (splitmix64) of a seed and the element's
// index, the seed drawn from LibTorch's CPU generator: runs stay reproducible and resumable (the
// generator's state is checkpointed) and independent of the thread count, but the masks are not
// LibTorch's. The keep probability is quantised to 1/65536.
//
// In the whole training step (tiny preset, batch 128, 1 thread) the fused kernel is about 1.27×
// faster (docs/PERFORMANCE.md), but its masks are not LibTorch's and they change which marginal
// tasks learn at test_learning's size, so LibTorch's dropout stays the default (a seed's losses
// stay as they were). VLMT_DROPOUT=fused|torch (or bench_step --dropout) selects the kernel.
// CUDA tensors (LibTorch has a fused kernel there) always use torch::dropout.
#include <torch/torch.h>

namespace vlmt {

enum class DropoutKernel { kFused, kTorch };
// Process-wide: set, else VLMT_DROPOUT read at first use (another value: ConfigError).
void set_dropout_kernel(DropoutKernel kernel);
DropoutKernel dropout_kernel();

torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

}  // namespace vlmt

#pragma once
// One AdamW update of one parameter: the formula of train/adamw.h in one place.
//   m ← β1·m + (1 − β1)·g        v ← β2·v + (1 − β2)·g²       (g absent: m ← β1·m, v ← β2·v)
//   p ← p − step·m / (√v + ε)    p ← p − decay·p               (decay = lr·wd, 0 = none)
// On the CPU with float32 contiguous tensors the four lines are one pass over p, g, m and v
// (`kFused`); LibTorch's op-by-op form reads and writes the parameter-sized arrays about 14
// times and allocates √v + ε per parameter, which on the base preset is memory traffic of the
// order of the step's GEMMs. Elsewhere (GPU, other dtypes, views) the op-by-op form runs.
// Both round every operation to float32; they may differ in the last bit where LibTorch's
// vectorised add contracts a·b + c into one FMA (tests/unit/test_train_adamw.cpp bounds it).
#include <string>
#include <vector>

#include <torch/torch.h>

namespace vlmt {

struct AdamWCoefficients {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-6;
  double step_size = 0;  // lr, times the bias correction where it is on
  double decay = 0;      // lr · weight decay; 0 = no decay
};

enum class AdamWKernel { kAuto, kFused, kOpByOp };

// The kernel a configured name selects (train.adamw_kernel, bench_step --adamw): "fused" = kAuto
// (fused where it applies), "ops" = kOpByOp. Throws ConfigError naming the valid names for any
// other. The names are listed once, here (adamw_kernel_names).
AdamWKernel adamw_kernel_named(const std::string& name);
std::vector<std::string> adamw_kernel_names();

// Whether `kAuto` takes the fused pass for this parameter and its state.
bool adamw_fusable(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m,
                   const torch::Tensor& v);

// Updates p, m and v in place; `g` may be undefined (the zero gradient of a stepped
// parameter). kFused on tensors that are not fusable throws vlmt::Error.
void adamw_update(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v,
                  const AdamWCoefficients& c, AdamWKernel kernel = AdamWKernel::kAuto);

}  // namespace vlmt

#include "train/adamw_update.h"

#include <cmath>
#include <utility>

#include <ATen/Parallel.h>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

bool cpu_float_contiguous(const torch::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
}

void op_by_op(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v,
              const AdamWCoefficients& c) {
  if (g.defined()) {
    m.mul_(c.beta1).add_(g, 1.0 - c.beta1);
    v.mul_(c.beta2).addcmul_(g, g, 1.0 - c.beta2);
  } else {
    m.mul_(c.beta1);
    v.mul_(c.beta2);
  }
  p.addcdiv_(m, v.sqrt().add_(c.eps), -c.step_size);
  if (c.decay > 0.0) p.add_(p, -c.decay);
}

// Elements per task of the parallel loop: enough that a thread's share outweighs its start.
constexpr int64_t kGrain = 32768;

// The loop body for one combination of (gradient present, decay on), so that the inner loop has
// no branch and the compiler vectorises it (this file is built with -fno-math-errno, so sqrt
// is one instruction; v ≥ 0 here, so errno could never be set anyway).
template <bool kGradient, bool kDecay>
void fused_range(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                 float b1, float one_minus_b1, float b2, float one_minus_b2, float eps, float neg_step,
                 float neg_decay) {
  for (int64_t i = begin; i < end; ++i) {
    float mi = m[i] * b1, vi = v[i] * b2;
    if constexpr (kGradient) {
      mi = mi + one_minus_b1 * g[i];
      vi = vi + one_minus_b2 * g[i] * g[i];
    }
    float pi = p[i] + neg_step * mi / (std::sqrt(vi) + eps);
    if constexpr (kDecay) pi = pi + neg_decay * pi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
  }
}

void fused(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v,
           const AdamWCoefficients& c) {
  // Scalars rounded to float as LibTorch rounds a Scalar for a float32 op.
  const float b1 = static_cast<float>(c.beta1), one_minus_b1 = static_cast<float>(1.0 - c.beta1);
  const float b2 = static_cast<float>(c.beta2), one_minus_b2 = static_cast<float>(1.0 - c.beta2);
  const float eps = static_cast<float>(c.eps), neg_step = static_cast<float>(-c.step_size);
  const float neg_decay = static_cast<float>(-c.decay);
  auto* range = g.defined() ? (c.decay > 0.0 ? &fused_range<true, true> : &fused_range<true, false>)
                            : (c.decay > 0.0 ? &fused_range<false, true> : &fused_range<false, false>);
  float* pp = p.data_ptr<float>();
  float* mp = m.data_ptr<float>();
  float* vp = v.data_ptr<float>();
  const float* gp = g.defined() ? g.data_ptr<float>() : nullptr;
  at::parallel_for(0, p.numel(), kGrain, [&](int64_t begin, int64_t end) {
    range(pp, gp, mp, vp, begin, end, b1, one_minus_b1, b2, one_minus_b2, eps, neg_step, neg_decay);
  });
  // Writes through raw pointers bypass autograd's version counters; bump them as an in-place
  // op would, so that a graph saved before the step still refuses to backward through it.
  for (torch::Tensor* t : {&p, &m, &v}) t->unsafeGetTensorImpl()->bump_version();
}

}  // namespace

namespace {
const std::vector<std::pair<std::string, AdamWKernel>>& named_kernels() {
  static const std::vector<std::pair<std::string, AdamWKernel>> kernels = {{"fused", AdamWKernel::kAuto},
                                                                           {"ops", AdamWKernel::kOpByOp}};
  return kernels;
}
}  // namespace

std::vector<std::string> adamw_kernel_names() {
  std::vector<std::string> names;
  for (const auto& [name, kernel] : named_kernels()) names.push_back(name);
  return names;
}

AdamWKernel adamw_kernel_named(const std::string& name) {
  for (const auto& [known, kernel] : named_kernels())
    if (known == name) return kernel;
  throw ConfigError(cat(not_one_of(name, adamw_kernel_names()), " (AdamW kernels)"));
}

bool adamw_fusable(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m,
                   const torch::Tensor& v) {
  const int64_t n = p.numel();
  return cpu_float_contiguous(p) && cpu_float_contiguous(m) && cpu_float_contiguous(v) &&
         m.numel() == n && v.numel() == n &&
         (!g.defined() || (cpu_float_contiguous(g) && g.numel() == n));
}

void adamw_update(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v,
                  const AdamWCoefficients& c, AdamWKernel kernel) {
  torch::NoGradGuard no_grad;
  const bool fusable = adamw_fusable(p, g, m, v);
  if (kernel == AdamWKernel::kFused && !fusable)
    throw Error(ExitCode::kFailure, "fused AdamW needs contiguous float32 CPU tensors of one size");
  if (kernel == AdamWKernel::kOpByOp || !fusable)
    op_by_op(p, g, m, v, c);
  else
    fused(p, g, m, v, c);
}

}  // namespace vlmt

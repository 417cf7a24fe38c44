#include "model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>
#include <mutex>

#include "core/env.h"

namespace vlmt {
namespace {

DropoutKernel kernel_from_environment() {
  return env::choice("VLMT_DROPOUT", "torch", {"torch", "fused"}) == "fused" ? DropoutKernel::kFused
                                                                             : DropoutKernel::kTorch;
}

// Chosen on first use, not during static initialisation: a bad VLMT_DROPOUT is then a ConfigError
// that main reports (exit 2), not a crash before main. kUnchosen until then.
constexpr int kUnchosen = -1;
std::atomic<int> g_kernel{kUnchosen};

// The i-th output of splitmix64 started at `seed`: a counter-based generator, so any element's
// bits can be computed without the ones before it (parallel and thread-count independent).
inline uint64_t splitmix64(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One draw from LibTorch's CPU generator per dropout call: the seed of that call's mask.
uint64_t next_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get<at::CPUGeneratorImpl>()->random64();
}

constexpr int64_t kPerDraw = 4;  // 16 random bits per element, 4 elements per 64-bit draw

class FusedDropout : public torch::autograd::Function<FusedDropout> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    const torch::Tensor input = x.contiguous();
    torch::Tensor mask = torch::empty(input.sizes(), input.options().dtype(torch::kUInt8));
    torch::Tensor out = torch::empty_like(input);
    const uint64_t seed = next_seed();
    const uint32_t keep_below = static_cast<uint32_t>(std::llround((1.0 - p) * 65536.0));
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    const int64_t n = input.numel();
    uint8_t* m = mask.data_ptr<uint8_t>();
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, input.scalar_type(), "vlmt_dropout", [&] {
      const scalar_t* in = input.data_ptr<scalar_t>();
      scalar_t* o = out.data_ptr<scalar_t>();
      at::parallel_for(0, (n + kPerDraw - 1) / kPerDraw, 4096, [&](int64_t begin, int64_t end) {
        for (int64_t draw = begin; draw < end; ++draw) {
          const uint64_t bits = splitmix64(seed, static_cast<uint64_t>(draw));
          const int64_t first = draw * kPerDraw, last = std::min(n, first + kPerDraw);
          for (int64_t i = first; i < last; ++i) {
            const bool keep = ((bits >> (16 * (i - first))) & 0xffff) < keep_below;
            m[i] = keep;
            o[i] = keep ? static_cast<scalar_t>(static_cast<float>(in[i]) * scale) : scalar_t(0);
          }
        }
      });
    });
    ctx->save_for_backward({mask});
    ctx->saved_data["scale"] = static_cast<double>(scale);
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor mask = ctx->get_saved_variables()[0];
    const float scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor out = torch::empty_like(g);
    const uint8_t* m = mask.data_ptr<uint8_t>();
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, g.scalar_type(), "vlmt_dropout_backward", [&] {
      const scalar_t* in = g.data_ptr<scalar_t>();
      scalar_t* o = out.data_ptr<scalar_t>();
      at::parallel_for(0, g.numel(), 16384, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          o[i] = m[i] ? static_cast<scalar_t>(static_cast<float>(in[i]) * scale) : scalar_t(0);
      });
    });
    return {out, torch::Tensor()};
  }
};

}  // namespace

void set_dropout_kernel(DropoutKernel kernel) { g_kernel = static_cast<int>(kernel); }

DropoutKernel dropout_kernel() {
  int kernel = g_kernel.load();
  if (kernel == kUnchosen) {
    int expected = kUnchosen;
    g_kernel.compare_exchange_strong(expected, static_cast<int>(kernel_from_environment()));
    kernel = g_kernel.load();
  }
  return static_cast<DropoutKernel>(kernel);
}

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  const bool fused = dropout_kernel() == DropoutKernel::kFused && p < 1.0 && x.device().is_cpu() && x.is_floating_point() &&
                     x.scalar_type() != torch::kHalf;
  return fused ? FusedDropout::apply(x, p) : torch::dropout(x, p, training);
}

}  // namespace vlmt

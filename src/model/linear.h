#pragma once
// torch::nn::Linear whose forward is ATen's linear, the op the released Python model calls.
// Why not torch::nn::Linear's own forward: LibTorch 1.13's C++ frontend computes a [B, L, in]
// input as a matmul followed by a separate bias add (torch/nn/functional/linear.h), one more
// pass over every layer's output. ATen's linear folds a contiguous 3-D input into one addmm with
// the bias inside the GEMM, as the released model's layers run. Parameters, names and
// initialisation are torch::nn::Linear's (it is one: as<torch::nn::Linear>() finds it).
#include <torch/torch.h>

namespace vlmt {

struct FusedLinearImpl : torch::nn::LinearImpl {
  using torch::nn::LinearImpl::LinearImpl;
  torch::Tensor forward(const torch::Tensor& x) { return torch::linear(x, weight, bias); }
};
TORCH_MODULE(FusedLinear);

}  // namespace vlmt

#pragma once
// The post-LayerNorm transformer block shared by the text stream (768 wide, 12 heads, 3072 FFN)
// and the visual stream (1024 wide, 8 heads, 1024 FFN). Module names follow the released
// state_dict: attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
// intermediate.dense, output.{dense,LayerNorm}.
#include <torch/torch.h>

#include "model/linear.h"

namespace vlmt {

// GeLU in its exact erf form, as the released model uses (not the tanh approximation).
torch::Tensor gelu_erf(const torch::Tensor& x);

// Additive attention mask from a 0/1 mask [B, L]: 0 where valid, -10000 where padding,
// shaped [B, 1, 1, L] for broadcasting over heads and queries.
torch::Tensor additive_mask(const torch::Tensor& mask01, torch::ScalarType dtype);

// softmax(q kᵀ / sqrt(d) + mask) v over `heads` heads; inputs [B, L, heads*d].
torch::Tensor multi_head_attention(const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& v, const torch::Tensor& additive_mask,
                                   int64_t heads, double dropout, bool training);

struct LayerDims {
  int64_t hidden;
  int64_t heads;
  int64_t intermediate;
  double hidden_dropout;
  double attention_dropout;
  double eps;
};

// dense → dropout → LayerNorm(x + residual): the "output" sub-block of every layer.
struct ResidualOutputImpl : torch::nn::Module {
  ResidualOutputImpl(int64_t in, int64_t out, double dropout, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);
  FusedLinear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  double dropout;
};
TORCH_MODULE(ResidualOutput);

// dense → GeLU.
struct IntermediateImpl : torch::nn::Module {
  IntermediateImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x) { return gelu_erf(dense(x)); }
  FusedLinear dense{nullptr};
};
TORCH_MODULE(Intermediate);

struct SelfAttentionImpl : torch::nn::Module {
  explicit SelfAttentionImpl(const LayerDims& d);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  FusedLinear query{nullptr}, key{nullptr}, value{nullptr};
  int64_t heads;
  double dropout;
};
TORCH_MODULE(SelfAttention);

struct AttentionImpl : torch::nn::Module {
  explicit AttentionImpl(const LayerDims& d);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    return output(self(x, mask), x);
  }
  SelfAttention self{nullptr};
  ResidualOutput output{nullptr};
};
TORCH_MODULE(Attention);

struct TransformerLayerImpl : torch::nn::Module {
  explicit TransformerLayerImpl(const LayerDims& d);
  // x [B, L, hidden]; mask: additive [B, 1, 1, L].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  Attention attention{nullptr};
  Intermediate intermediate{nullptr};
  ResidualOutput output{nullptr};
};
TORCH_MODULE(TransformerLayer);

}  // namespace vlmt

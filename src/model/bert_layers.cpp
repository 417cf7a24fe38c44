#include "model/bert_layers.h"
#include "model/dropout.h"

#include "model/autocast.h"

#include <cmath>

namespace vlmt {

// LibTorch's fused kernel of the same formula, x·Φ(x) = x·½(1 + erf(x/√2)) (approximate="none"):
// one pass forward and one backward instead of five and about ten.
torch::Tensor gelu_erf(const torch::Tensor& x) { return torch::gelu(x); }

torch::Tensor additive_mask(const torch::Tensor& mask01, torch::ScalarType dtype) {
  return ((1.0 - mask01.to(dtype)) * -10000.0).unsqueeze(1).unsqueeze(2);
}

namespace {
// [B, L, heads*d] → [B, heads, L, d]
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  const auto b = x.size(0), l = x.size(1), d = x.size(2) / heads;
  return x.view({b, l, heads, d}).permute({0, 2, 1, 3});
}
}  // namespace

torch::Tensor multi_head_attention(const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& v, const torch::Tensor& mask,
                                   int64_t heads, double dropout, bool training) {
  const auto qh = split_heads(q, heads), kh = split_heads(k, heads), vh = split_heads(v, heads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(qh.size(-1)));
  // mask + scale · q kᵀ in one pass over the scores (add's alpha), not a multiply and an add.
  auto scores = torch::add(mask, torch::matmul(qh, kh.transpose(-1, -2)), scale);
  auto probs = vlmt::dropout(torch::softmax(scores, -1), dropout, training);
  auto context = torch::matmul(probs, vh).permute({0, 2, 1, 3}).contiguous();
  return context.view({q.size(0), q.size(1), q.size(2)});
}

ResidualOutputImpl::ResidualOutputImpl(int64_t in, int64_t out, double dropout_p, double eps)
    : dropout(dropout_p) {
  dense = register_module("dense", FusedLinear(in, out));
  LayerNorm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({out}).eps(eps)));
}

torch::Tensor ResidualOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return layer_norm_fp32(LayerNorm, vlmt::dropout(dense(x), dropout, is_training()) + residual);
}

IntermediateImpl::IntermediateImpl(int64_t in, int64_t out) {
  dense = register_module("dense", FusedLinear(in, out));
}

SelfAttentionImpl::SelfAttentionImpl(const LayerDims& d) : heads(d.heads), dropout(d.attention_dropout) {
  query = register_module("query", FusedLinear(d.hidden, d.hidden));
  key = register_module("key", FusedLinear(d.hidden, d.hidden));
  value = register_module("value", FusedLinear(d.hidden, d.hidden));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  return multi_head_attention(query(x), key(x), value(x), mask, heads, dropout, is_training());
}

AttentionImpl::AttentionImpl(const LayerDims& d) {
  self = register_module("self", SelfAttention(d));
  output = register_module("output", ResidualOutput(d.hidden, d.hidden, d.hidden_dropout, d.eps));
}

TransformerLayerImpl::TransformerLayerImpl(const LayerDims& d) {
  attention = register_module("attention", Attention(d));
  intermediate = register_module("intermediate", Intermediate(d.hidden, d.intermediate));
  output = register_module("output", ResidualOutput(d.intermediate, d.hidden, d.hidden_dropout, d.eps));
}

torch::Tensor TransformerLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto a = attention(x, mask);
  return output(intermediate(a), a);
}

}  // namespace vlmt

#pragma once
// The co-attentional transformer layer (Co-TRM, ViLBERT): image queries attend over text keys
// and values and text queries over image keys and values, 8 heads of 128 in the base model.
// Names as released: biattention.{query,key,value}{1 = image side, 2 = text side},
// biOutput.{dense1, LayerNorm1, dense2, LayerNorm2, q_dense1, q_dense2}, then each stream's own
// feed-forward v_intermediate/v_output and t_intermediate/t_output.
#include <torch/torch.h>

#include <utility>

#include "model/bert_layers.h"
#include "model/linear.h"

namespace vlmt {

struct CoAttentionDims {
  int64_t v_hidden, t_hidden;          // stream widths (1024, 768)
  int64_t bi_hidden, bi_heads;         // attention width and heads (1024, 8)
  int64_t v_intermediate, t_intermediate;
  double v_dropout, t_dropout, attention_dropout, eps;
};

struct BiAttentionImpl : torch::nn::Module {
  explicit BiAttentionImpl(const CoAttentionDims& d);
  // Returns (image-side context [B, Lv, bi], text-side context [B, Lt, bi]).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& image, const torch::Tensor& image_mask,
                                                  const torch::Tensor& text, const torch::Tensor& text_mask);
  FusedLinear query1{nullptr}, key1{nullptr}, value1{nullptr};
  FusedLinear query2{nullptr}, key2{nullptr}, value2{nullptr};
  int64_t heads;
  double dropout;
};
TORCH_MODULE(BiAttention);

struct BiOutputImpl : torch::nn::Module {
  explicit BiOutputImpl(const CoAttentionDims& d);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& image_context, const torch::Tensor& image,
                                                  const torch::Tensor& text_context, const torch::Tensor& text);
  FusedLinear dense1{nullptr}, dense2{nullptr};
  torch::nn::LayerNorm LayerNorm1{nullptr}, LayerNorm2{nullptr};
  // Present in the released state_dict but unused in its forward pass; kept so released
  // checkpoints load without "unexpected weight" errors.
  FusedLinear q_dense1{nullptr}, q_dense2{nullptr};
  double v_dropout, t_dropout;
};
TORCH_MODULE(BiOutput);

struct CoAttentionLayerImpl : torch::nn::Module {
  explicit CoAttentionLayerImpl(const CoAttentionDims& d);
  // Masks are additive [B, 1, 1, L]. Returns (image, text).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& image, const torch::Tensor& image_mask,
                                                  const torch::Tensor& text, const torch::Tensor& text_mask);
  BiAttention biattention{nullptr};
  BiOutput biOutput{nullptr};
  Intermediate v_intermediate{nullptr}, t_intermediate{nullptr};
  ResidualOutput v_output{nullptr}, t_output{nullptr};
};
TORCH_MODULE(CoAttentionLayer);

}  // namespace vlmt

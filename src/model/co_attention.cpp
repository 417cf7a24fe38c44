#include "model/co_attention.h"
#include "model/dropout.h"

#include "model/autocast.h"

namespace vlmt {

BiAttentionImpl::BiAttentionImpl(const CoAttentionDims& d) : heads(d.bi_heads), dropout(d.attention_dropout) {
  query1 = register_module("query1", FusedLinear(d.v_hidden, d.bi_hidden));
  key1 = register_module("key1", FusedLinear(d.v_hidden, d.bi_hidden));
  value1 = register_module("value1", FusedLinear(d.v_hidden, d.bi_hidden));
  query2 = register_module("query2", FusedLinear(d.t_hidden, d.bi_hidden));
  key2 = register_module("key2", FusedLinear(d.t_hidden, d.bi_hidden));
  value2 = register_module("value2", FusedLinear(d.t_hidden, d.bi_hidden));
}

std::pair<torch::Tensor, torch::Tensor> BiAttentionImpl::forward(const torch::Tensor& image,
                                                                 const torch::Tensor& image_mask,
                                                                 const torch::Tensor& text,
                                                                 const torch::Tensor& text_mask) {
  // Image queries over text keys/values (masked by the text mask) and vice versa.
  auto image_context = multi_head_attention(query1(image), key2(text), value2(text), text_mask, heads,
                                            dropout, is_training());
  auto text_context = multi_head_attention(query2(text), key1(image), value1(image), image_mask, heads,
                                           dropout, is_training());
  return {image_context, text_context};
}

BiOutputImpl::BiOutputImpl(const CoAttentionDims& d) : v_dropout(d.v_dropout), t_dropout(d.t_dropout) {
  dense1 = register_module("dense1", FusedLinear(d.bi_hidden, d.v_hidden));
  LayerNorm1 = register_module("LayerNorm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d.v_hidden}).eps(d.eps)));
  q_dense1 = register_module("q_dense1", FusedLinear(d.bi_hidden, d.v_hidden));
  dense2 = register_module("dense2", FusedLinear(d.bi_hidden, d.t_hidden));
  LayerNorm2 = register_module("LayerNorm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d.t_hidden}).eps(d.eps)));
  q_dense2 = register_module("q_dense2", FusedLinear(d.bi_hidden, d.t_hidden));
}

std::pair<torch::Tensor, torch::Tensor> BiOutputImpl::forward(const torch::Tensor& image_context,
                                                              const torch::Tensor& image,
                                                              const torch::Tensor& text_context,
                                                              const torch::Tensor& text) {
  auto v = layer_norm_fp32(LayerNorm1, vlmt::dropout(dense1(image_context), v_dropout, is_training()) + image);
  auto t = layer_norm_fp32(LayerNorm2, vlmt::dropout(dense2(text_context), t_dropout, is_training()) + text);
  return {v, t};
}

CoAttentionLayerImpl::CoAttentionLayerImpl(const CoAttentionDims& d) {
  biattention = register_module("biattention", BiAttention(d));
  biOutput = register_module("biOutput", BiOutput(d));
  v_intermediate = register_module("v_intermediate", Intermediate(d.v_hidden, d.v_intermediate));
  v_output = register_module("v_output", ResidualOutput(d.v_intermediate, d.v_hidden, d.v_dropout, d.eps));
  t_intermediate = register_module("t_intermediate", Intermediate(d.t_hidden, d.t_intermediate));
  t_output = register_module("t_output", ResidualOutput(d.t_intermediate, d.t_hidden, d.t_dropout, d.eps));
}

std::pair<torch::Tensor, torch::Tensor> CoAttentionLayerImpl::forward(const torch::Tensor& image,
                                                                      const torch::Tensor& image_mask,
                                                                      const torch::Tensor& text,
                                                                      const torch::Tensor& text_mask) {
  auto [image_context, text_context] = biattention(image, image_mask, text, text_mask);
  auto [v, t] = biOutput(image_context, image, text_context, text);
  return {v_output(v_intermediate(v), v), t_output(t_intermediate(t), t)};
}

}  // namespace vlmt

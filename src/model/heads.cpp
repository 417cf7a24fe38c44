#include "model/heads.h"

#include "model/bert_layers.h"

namespace vlmt {

torch::Tensor GeLUImpl::forward(const torch::Tensor& x) { return gelu_erf(x); }

SimpleClassifierImpl::SimpleClassifierImpl(int64_t in, int64_t hidden, int64_t out, double eps) {
  logit_fc = register_module(
      "logit_fc", torch::nn::Sequential(torch::nn::Linear(in, hidden), GeLU(),
                                        torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(eps)),
                                        torch::nn::Linear(hidden, out)));
}

HeadTransformImpl::HeadTransformImpl(int64_t hidden, double eps) {
  dense = register_module("dense", torch::nn::Linear(hidden, hidden));
  LayerNorm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(eps)));
}

torch::Tensor HeadTransformImpl::forward(const torch::Tensor& x) { return LayerNorm(gelu_erf(dense(x))); }

LMPredictionHeadImpl::LMPredictionHeadImpl(const ModelConfig& c, const torch::Tensor& word_embedding_weight) {
  transform = register_module("transform", HeadTransform(c.hidden_size, c.layer_norm_eps));
  decoder = register_module("decoder", std::make_shared<torch::nn::Module>("TiedDecoder"));
  decoder_weight = decoder->register_parameter("weight", word_embedding_weight);
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
}

torch::Tensor LMPredictionHeadImpl::forward(const torch::Tensor& text) {
  return torch::nn::functional::linear(transform(text), decoder_weight, bias);
}

ImagePredictionHeadImpl::ImagePredictionHeadImpl(const ModelConfig& c) {
  transform = register_module("transform", HeadTransform(c.v_hidden_size, c.layer_norm_eps));
  decoder = register_module("decoder", torch::nn::Linear(c.v_hidden_size, c.v_target_size));
}

PretrainingHeadsImpl::PretrainingHeadsImpl(const ModelConfig& c, const torch::Tensor& word_embedding_weight) {
  predictions = register_module("predictions", LMPredictionHead(c, word_embedding_weight));
  bi_seq_relationship = register_module("bi_seq_relationship", torch::nn::Linear(c.bi_hidden_size, 2));
  imagePredictions = register_module("imagePredictions", ImagePredictionHead(c));
}

}  // namespace vlmt

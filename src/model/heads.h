#pragma once
// Task and pretraining heads with the released module names (released vilbert/vilbert.py).
#include <torch/torch.h>

#include "config/model_config.h"

namespace vlmt {

// logit_fc = Sequential(Linear(in, hid), GeLU, LayerNorm(hid), Linear(hid, out)): the released
// "SimpleClassifier" of vil_prediction, vil_prediction_gqa and vil_binary_prediction.
struct GeLUImpl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(GeLU);

struct SimpleClassifierImpl : torch::nn::Module {
  SimpleClassifierImpl(int64_t in, int64_t hidden, int64_t out, double eps);
  torch::Tensor forward(const torch::Tensor& x) { return logit_fc->forward(x); }
  torch::nn::Sequential logit_fc{nullptr};
};
TORCH_MODULE(SimpleClassifier);

// dense → GeLU → LayerNorm.
struct HeadTransformImpl : torch::nn::Module {
  HeadTransformImpl(int64_t hidden, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(HeadTransform);

// Masked-word prediction: transform, then a decoder whose weight IS the word-embedding matrix
// (registered under both names, as in the released state_dict), plus its own bias.
struct LMPredictionHeadImpl : torch::nn::Module {
  LMPredictionHeadImpl(const ModelConfig& c, const torch::Tensor& word_embedding_weight);
  torch::Tensor forward(const torch::Tensor& text);
  HeadTransform transform{nullptr};
  std::shared_ptr<torch::nn::Module> decoder;  // holds the tied "weight"
  torch::Tensor decoder_weight;                // the same tensor as bert.embeddings.word_embeddings.weight
  torch::Tensor bias;
};
TORCH_MODULE(LMPredictionHead);

// Masked-region prediction over the detector's classes.
struct ImagePredictionHeadImpl : torch::nn::Module {
  explicit ImagePredictionHeadImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& image) { return decoder(transform(image)); }
  HeadTransform transform{nullptr};
  torch::nn::Linear decoder{nullptr};
};
TORCH_MODULE(ImagePredictionHead);

// "cls": the three pretraining heads.
struct PretrainingHeadsImpl : torch::nn::Module {
  PretrainingHeadsImpl(const ModelConfig& c, const torch::Tensor& word_embedding_weight);
  LMPredictionHead predictions{nullptr};
  torch::nn::Linear bi_seq_relationship{nullptr};
  ImagePredictionHead imagePredictions{nullptr};
};
TORCH_MODULE(PretrainingHeads);

}  // namespace vlmt

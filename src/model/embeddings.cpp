#include "model/embeddings.h"
#include "model/dropout.h"

#include "model/autocast.h"

#include "catalog/task_spec.h"

namespace vlmt {

TextEmbeddingsImpl::TextEmbeddingsImpl(const ModelConfig& c) : dropout(c.hidden_dropout) {
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  if (c.task_token != TaskTokenMode::kNone)
    task_embeddings = register_module("task_embeddings", torch::nn::Embedding(kTaskTokenRows, c.hidden_size));
}

torch::Tensor TextEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                                          const torch::Tensor& task_rows) {
  const auto length = input_ids.size(1);
  auto positions = torch::arange(length, input_ids.options()).unsqueeze(0).expand_as(input_ids);
  auto e = word_embeddings(input_ids) + position_embeddings(positions) + token_type_embeddings(segment_ids);
  if (task_rows.defined()) {
    TORCH_CHECK(!task_embeddings.is_empty(), "task token given but the model has no task embeddings");
    auto task = task_embeddings(task_rows.view({-1, 1}));
    e = torch::cat({e.narrow(1, 0, 1), task, e.narrow(1, 1, length - 1)}, 1);
  }
  return vlmt::dropout(layer_norm_fp32(LayerNorm, e), dropout, is_training());
}

ImageEmbeddingsImpl::ImageEmbeddingsImpl(const ModelConfig& c) : dropout(c.v_hidden_dropout) {
  image_embeddings = register_module("image_embeddings", FusedLinear(c.v_feature_size, c.v_hidden_size));
  image_location_embeddings = register_module("image_location_embeddings", FusedLinear(5, c.v_hidden_size));
  LayerNorm = register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.v_hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor ImageEmbeddingsImpl::forward(const torch::Tensor& features, const torch::Tensor& spatials) {
  const torch::Tensor e = image_embeddings(features) + image_location_embeddings(spatials);
  return vlmt::dropout(layer_norm_fp32(LayerNorm, e), dropout,
                        is_training());
}

}  // namespace vlmt

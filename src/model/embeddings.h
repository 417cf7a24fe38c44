#pragma once
// Input embeddings of the two streams.
#include <torch/torch.h>

#include "config/model_config.h"
#include "model/linear.h"

namespace vlmt {

// word + position + token type, then (with task tokens) the task embedding row inserted at
// position 1 right after [CLS], then LayerNorm and dropout. Positions are those of the original
// text (0..L-1), as released.
struct TextEmbeddingsImpl : torch::nn::Module {
  explicit TextEmbeddingsImpl(const ModelConfig& c);
  // task_rows: [B] int64 task-token rows, or undefined for no task token.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                        const torch::Tensor& task_rows);
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::Embedding task_embeddings{nullptr};  // null when task tokens are off
  torch::nn::LayerNorm LayerNorm{nullptr};
  double dropout;
};
TORCH_MODULE(TextEmbeddings);

// Linear(region feature) + Linear(5-d location), summed, LayerNorm, dropout. No position or
// type embedding on the image side.
struct ImageEmbeddingsImpl : torch::nn::Module {
  explicit ImageEmbeddingsImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& spatials);
  FusedLinear image_embeddings{nullptr}, image_location_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  double dropout;
};
TORCH_MODULE(ImageEmbeddings);

}  // namespace vlmt

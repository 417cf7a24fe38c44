#include "model/vilbert.h"

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

// The text mask extended by the task token's position (always attended).
torch::Tensor with_task_token(const torch::Tensor& text_mask, const torch::Tensor& task_rows) {
  if (!task_rows.defined()) return text_mask;
  return torch::cat({torch::ones({text_mask.size(0), 1}, text_mask.options()), text_mask}, 1);
}

}  // namespace

std::vector<LayerStep> layer_schedule(const ModelConfig& c) {
  std::vector<LayerStep> steps;
  int t_next = 0, v_next = 0;
  for (size_t i = 0; i < c.v_biattention_id.size(); ++i) {
    for (; t_next < c.t_biattention_id[i]; ++t_next) steps.push_back({'T', t_next});
    for (; v_next < c.v_biattention_id[i]; ++v_next) steps.push_back({'V', v_next});
    steps.push_back({'C', static_cast<int>(i)});
  }
  for (; v_next < c.v_num_hidden_layers; ++v_next) steps.push_back({'V', v_next});
  for (; t_next < c.num_hidden_layers; ++t_next) steps.push_back({'T', t_next});
  return steps;
}

std::string describe_schedule(const std::vector<LayerStep>& steps) {
  std::string out;
  for (const auto& s : steps) out += (out.empty() ? "" : " ") + std::string(1, s.stream) + std::to_string(s.index);
  return out;
}

EncoderImpl::EncoderImpl(const ModelConfig& c) : schedule(layer_schedule(c)) {
  const LayerDims text{c.hidden_size, c.num_attention_heads, c.intermediate_size, c.hidden_dropout,
                       c.attention_dropout, c.layer_norm_eps};
  const LayerDims vis{c.v_hidden_size, c.v_num_attention_heads, c.v_intermediate_size, c.v_hidden_dropout,
                      c.v_attention_dropout, c.layer_norm_eps};
  const CoAttentionDims co{c.v_hidden_size, c.hidden_size, c.bi_hidden_size, c.bi_num_attention_heads,
                           c.v_intermediate_size, c.intermediate_size, c.v_hidden_dropout, c.hidden_dropout,
                           c.v_attention_dropout, c.layer_norm_eps};
  layer = register_module("layer", torch::nn::ModuleList());
  v_layer = register_module("v_layer", torch::nn::ModuleList());
  c_layer = register_module("c_layer", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) layer->push_back(TransformerLayer(text));
  for (int i = 0; i < c.v_num_hidden_layers; ++i) v_layer->push_back(TransformerLayer(vis));
  for (size_t i = 0; i < c.v_biattention_id.size(); ++i) c_layer->push_back(CoAttentionLayer(co));
  while (first_joint_step < schedule.size() && schedule[first_joint_step].stream != 'C') ++first_joint_step;
}

torch::Tensor EncoderImpl::run_layer(const LayerStep& step, torch::Tensor x, const torch::Tensor& mask) {
  auto& stack = step.stream == 'T' ? layer : v_layer;
  return stack[step.index]->as<TransformerLayer>()->forward(x, mask);
}

// The prefix holds only 'T' and 'V' steps (layer_schedule puts every stream's layers before the
// first co-attention ahead of it), and the text ones come first, so forward() keeps the order.
torch::Tensor EncoderImpl::text_prefix(torch::Tensor text, const torch::Tensor& text_mask) {
  for (size_t i = 0; i < first_joint_step; ++i)
    if (schedule[i].stream == 'T') text = run_layer(schedule[i], text, text_mask);
  return text;
}

torch::Tensor EncoderImpl::image_prefix(torch::Tensor image, const torch::Tensor& image_mask) {
  for (size_t i = 0; i < first_joint_step; ++i)
    if (schedule[i].stream == 'V') image = run_layer(schedule[i], image, image_mask);
  return image;
}

std::pair<torch::Tensor, torch::Tensor> EncoderImpl::joint(torch::Tensor text, const torch::Tensor& text_mask,
                                                           torch::Tensor image, const torch::Tensor& image_mask) {
  for (size_t i = first_joint_step; i < schedule.size(); ++i) {
    const LayerStep& step = schedule[i];
    switch (step.stream) {
      case 'T': text = run_layer(step, text, text_mask); break;
      case 'V': image = run_layer(step, image, image_mask); break;
      default: std::tie(image, text) = c_layer[step.index]->as<CoAttentionLayer>()->forward(image, image_mask, text, text_mask);
    }
  }
  return {text, image};
}

std::pair<torch::Tensor, torch::Tensor> EncoderImpl::forward(torch::Tensor text, const torch::Tensor& text_mask,
                                                             torch::Tensor image, const torch::Tensor& image_mask) {
  text = text_prefix(std::move(text), text_mask);
  image = image_prefix(std::move(image), image_mask);
  return joint(std::move(text), text_mask, std::move(image), image_mask);
}

PoolerImpl::PoolerImpl(int64_t in, int64_t out) { dense = register_module("dense", FusedLinear(in, out)); }

ViLBertImpl::ViLBertImpl(const ModelConfig& c) {
  embeddings = register_module("embeddings", TextEmbeddings(c));
  v_embeddings = register_module("v_embeddings", ImageEmbeddings(c));
  encoder = register_module("encoder", Encoder(c));
  t_pooler = register_module("t_pooler", Pooler(c.hidden_size, c.bi_hidden_size));
  v_pooler = register_module("v_pooler", Pooler(c.v_hidden_size, c.bi_hidden_size));
}

TrunkOutput ViLBertImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                                 const torch::Tensor& text_mask, const torch::Tensor& features,
                                 const torch::Tensor& spatials, const torch::Tensor& image_mask,
                                 const torch::Tensor& task_rows) {
  TORCH_CHECK(input_ids.dim() == 2 && features.dim() == 3 && spatials.size(-1) == 5,
              "ViLBert: expected input_ids [B, L], features [B, R, D], spatials [B, R, 5]");
  TORCH_CHECK(input_ids.size(0) == features.size(0), "ViLBert: text and image batch sizes differ (",
              input_ids.size(0), " vs ", features.size(0), ")");
  auto mask = with_task_token(text_mask, task_rows);
  auto text = embeddings(input_ids, segment_ids, task_rows);
  auto image = v_embeddings(features, spatials);
  const auto dtype = text.scalar_type();
  std::tie(text, image) = encoder(text, additive_mask(mask, dtype), image, additive_mask(image_mask, dtype));
  return {text, image, t_pooler(text), v_pooler(image), mask};
}

StreamEncoding ViLBertImpl::encode_text(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                                        const torch::Tensor& text_mask, const torch::Tensor& task_rows) {
  auto mask = with_task_token(text_mask, task_rows);
  auto text = embeddings(input_ids, segment_ids, task_rows);
  return {encoder->text_prefix(text, additive_mask(mask, text.scalar_type())), mask};
}

StreamEncoding ViLBertImpl::encode_image(const torch::Tensor& features, const torch::Tensor& spatials,
                                         const torch::Tensor& image_mask) {
  auto image = v_embeddings(features, spatials);
  return {encoder->image_prefix(image, additive_mask(image_mask, image.scalar_type())), image_mask};
}

TrunkOutput ViLBertImpl::forward_joint(const StreamEncoding& text, const StreamEncoding& image) {
  TORCH_CHECK(text.hidden.size(0) == image.hidden.size(0), "ViLBert: text and image rows differ (",
              text.hidden.size(0), " vs ", image.hidden.size(0), ")");
  const auto dtype = text.hidden.scalar_type();
  auto [t, v] = encoder->joint(text.hidden, additive_mask(text.mask, dtype), image.hidden,
                               additive_mask(image.mask, dtype));
  return {t, v, t_pooler(t), v_pooler(v), text.mask};
}

}  // namespace vlmt

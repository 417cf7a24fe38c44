#include "model/multitask_model.h"
#include "model/dropout.h"

#include <unordered_set>

#include "core/error.h"
#include "core/log.h"
#include "model/autocast.h"

namespace vlmt {

MultiTaskModelImpl::MultiTaskModelImpl(const ModelConfig& c) : config(c), dropout(c.hidden_dropout) {
  dropout_kernel();  // a bad VLMT_DROPOUT is reported now, not at the first training step
  bert = register_module("bert", ViLBert(c));
  cls = register_module("cls", PretrainingHeads(c, bert->embeddings->word_embeddings->weight));
  const double eps = c.layer_norm_eps;
  const int64_t bi = c.bi_hidden_size;
  vil_prediction = register_module("vil_prediction", SimpleClassifier(bi, bi * 2, c.num_vqa_answers, eps));
  vil_prediction_gqa = register_module("vil_prediction_gqa", SimpleClassifier(bi, bi * 2, c.num_gqa_answers, eps));
  vil_binary_prediction = register_module("vil_binary_prediction", SimpleClassifier(bi * 2, bi * 2, 2, eps));
  vil_logit = register_module("vil_logit", FusedLinear(bi, 1));
  vil_tri_prediction = register_module("vil_tri_prediction", FusedLinear(bi, 3));
  vision_logit = register_module("vision_logit", FusedLinear(c.v_hidden_size, 1));
  linguisic_logit = register_module("linguisic_logit", FusedLinear(c.hidden_size, 1));
  initialize_weights(*this);
}

int MultiTaskModelImpl::task_token_row(const TaskSpec& task) const { return task_token_row(task.id, task.group); }

int MultiTaskModelImpl::task_token_row(int task_id, TaskGroup group) const {
  if (task_id == 0) return -1;  // pretraining batches carry no task token
  switch (config.task_token) {
    case TaskTokenMode::kPerDataset: return task_id;
    // The paper's "token per head" ablation counts 4 tokens: one per task group (docs/MODEL.md).
    case TaskTokenMode::kPerHead:
      if (group == TaskGroup::kPretraining)
        throw std::logic_error(cat("a batch of task id ", task_id, " carries no task group"));
      return group_index(group);
    case TaskTokenMode::kNone: return -1;
  }
  return -1;
}

ModelOutput MultiTaskModelImpl::forward_inputs(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                                               const torch::Tensor& text_mask, const torch::Tensor& features,
                                               const torch::Tensor& spatials, const torch::Tensor& image_mask,
                                               const torch::Tensor& task_rows) {
  TrunkOutput trunk;
  {
    AutocastScope autocast(features.device(), bf16_trunk);
    trunk = bert(input_ids, segment_ids, text_mask, features, spatials, image_mask, task_rows);
  }
  return finish(std::move(trunk));
}

ModelOutput MultiTaskModelImpl::finish(TrunkOutput trunk) {
  ModelOutput out;
  out.trunk = std::move(trunk);
  if (bf16_trunk) {
    for (torch::Tensor* t : {&out.trunk.text, &out.trunk.image, &out.trunk.pooled_text,
                             &out.trunk.pooled_image, &out.trunk.text_mask})
      *t = to_float32(*t);
  }
  out.fused = vlmt::dropout(out.trunk.pooled_text * out.trunk.pooled_image, dropout, is_training());
  return out;
}

torch::Tensor MultiTaskModelImpl::task_rows_of(const Batch& b) {
  const int row = task_token_row(b.task_id, b.task_group);
  if (row < 0) return {};
  return torch::full({b.input_ids.size(0)}, row, b.input_ids.options());
}

ModelOutput MultiTaskModelImpl::forward(const Batch& b) {
  return forward_inputs(b.input_ids, b.segment_ids, b.text_mask, b.features, b.spatials, b.image_mask,
                        task_rows_of(b));
}

StreamEncoding MultiTaskModelImpl::encode_text(const Batch& b) {
  AutocastScope autocast(b.input_ids.device(), bf16_trunk);
  return bert->encode_text(b.input_ids, b.segment_ids, b.text_mask, task_rows_of(b));
}

StreamEncoding MultiTaskModelImpl::encode_image(const Batch& b) {
  AutocastScope autocast(b.features.device(), bf16_trunk);
  return bert->encode_image(b.features, b.spatials, b.image_mask);
}

ModelOutput MultiTaskModelImpl::forward_pairs(const StreamEncoding& text, const StreamEncoding& image) {
  TrunkOutput trunk;
  {
    AutocastScope autocast(image.hidden.device(), bf16_trunk);
    trunk = bert->forward_joint(text, image);
  }
  return finish(std::move(trunk));
}

torch::Tensor MultiTaskModelImpl::region_logits(const ModelOutput& o, const torch::Tensor& image_mask) {
  auto logits = vision_logit(vlmt::dropout(o.trunk.image, dropout, is_training())).squeeze(-1);
  return logits + (1.0 - image_mask.to(logits.scalar_type())) * -10000.0;
}

torch::Tensor MultiTaskModelImpl::binary_logits(const ModelOutput& o) {
  TORCH_CHECK(o.fused.size(0) % 2 == 0, "NLVR2 batch needs an even number of rows (two images per item), got ",
              o.fused.size(0));
  return vil_binary_prediction(o.fused.view({-1, o.fused.size(1) * 2}));
}

std::vector<std::pair<std::string, torch::Tensor>> MultiTaskModelImpl::unique_named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  std::unordered_set<const void*> seen;
  for (const auto& p : named_parameters(true))
    if (seen.insert(p.value().unsafeGetTensorImpl()).second) out.emplace_back(p.key(), p.value());
  return out;
}

int64_t MultiTaskModelImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, p] : unique_named_parameters()) n += p.numel();
  return n;
}

void initialize_weights(MultiTaskModelImpl& model) {
  torch::NoGradGuard no_grad;
  const double std = model.config.initializer_range;
  for (auto& m : model.modules(/*include_self=*/false)) {
    if (auto* linear = m->as<torch::nn::Linear>()) {
      linear->weight.normal_(0.0, std);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* emb = m->as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, std);
    } else if (auto* ln = m->as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
  model.cls->predictions->bias.zero_();
}

}  // namespace vlmt

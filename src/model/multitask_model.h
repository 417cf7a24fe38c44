#pragma once
// The whole 12-in-1 model: the shared ViLBERT trunk ("bert"), the pretraining heads ("cls") and
// the task heads, with names and shapes equal to the released state_dict so that released
// weights load (tests/data/vilbert_state_dict.txt).
//
// Heads as released (the paper's text differs in two places, docs/MODEL.md):
//   vil_prediction        MLP 1024→2048→3129 on the fused vector   VQA, VG QA
//   vil_prediction_gqa    MLP 1024→2048→1533                        GQA
//   vil_logit             Linear 1024→1                             retrieval (COCO, Flickr30k)
//   vision_logit          Linear 1024→1 on every image region       RefCOCO/+/g, Visual7W, GuessWhat
//   vil_binary_prediction MLP 2048→2048→2 on two fused vectors      NLVR2
//   vil_tri_prediction    Linear 1024→3 (an MLP in the paper)       SNLI-VE
//   linguisic_logit       Linear 768→1 (unused by the 12 tasks, kept for loading)
#include <torch/torch.h>

#include <string>
#include <vector>

#include "catalog/task_spec.h"
#include "config/model_config.h"
#include "data/batch.h"
#include "model/heads.h"
#include "model/linear.h"
#include "model/provenance.h"
#include "model/vilbert.h"

namespace vlmt {

struct ModelOutput {
  TrunkOutput trunk;
  torch::Tensor fused;  // dropout(pooled_text ⊙ pooled_image)  [rows, bi_hidden]
};

struct MultiTaskModelImpl : torch::nn::Module {
  explicit MultiTaskModelImpl(const ModelConfig& config);

  // Trunk forward for a batch; the task token row is chosen from the batch's task and the
  // task_token mode (none for pretraining batches). Which head a task reads is its kind's
  // business (tasks/task_kind.h); the accessors below are the heads as modules.
  ModelOutput forward(const Batch& batch);
  ModelOutput forward_inputs(const torch::Tensor& input_ids, const torch::Tensor& segment_ids,
                             const torch::Tensor& text_mask, const torch::Tensor& features,
                             const torch::Tensor& spatials, const torch::Tensor& image_mask,
                             const torch::Tensor& task_rows);
  // The same forward in parts (ViLBertImpl::encode_text/encode_image/forward_joint): retrieval
  // evaluation encodes each caption and each image once and pairs the encodings row by row.
  StreamEncoding encode_text(const Batch& text_rows);
  StreamEncoding encode_image(const Batch& image_rows);
  ModelOutput forward_pairs(const StreamEncoding& text, const StreamEncoding& image);

  // Head outputs (raw logits).
  torch::Tensor vqa_logits(const ModelOutput& o) { return vil_prediction(o.fused); }
  torch::Tensor gqa_logits(const ModelOutput& o) { return vil_prediction_gqa(o.fused); }
  torch::Tensor retrieval_logits(const ModelOutput& o) { return vil_logit(o.fused); }  // [rows, 1]
  torch::Tensor region_logits(const ModelOutput& o, const torch::Tensor& image_mask);  // [rows, R]
  torch::Tensor binary_logits(const ModelOutput& o);  // [rows/2, 2]
  torch::Tensor tri_logits(const ModelOutput& o) { return vil_tri_prediction(o.fused); }

  // Task-token row for a task under this model's mode; -1 = no token.
  int task_token_row(const TaskSpec& task) const;
  int task_token_row(int task_id, TaskGroup group) const;  // id 0: pretraining

  // Unique parameters (the tied embedding/decoder matrix once), and their element count.
  std::vector<std::pair<std::string, torch::Tensor>> unique_named_parameters() const;
  int64_t parameter_count() const;

  ModelConfig config;
  // train.bf16: the trunk runs under bf16 autocast (model/autocast.h); its outputs are cast back
  // to float32, so heads and losses are computed in float32. Parameters are float32 either way.
  bool bf16_trunk = false;
  ViLBert bert{nullptr};
  PretrainingHeads cls{nullptr};
  SimpleClassifier vil_prediction{nullptr}, vil_prediction_gqa{nullptr}, vil_binary_prediction{nullptr};
  FusedLinear vil_logit{nullptr}, vil_tri_prediction{nullptr}, vision_logit{nullptr}, linguisic_logit{nullptr};
  double dropout;
  // Answer vocabularies and training features of the weights (model/provenance.h).
  ModelProvenance provenance;

 private:
  torch::Tensor task_rows_of(const Batch& b);
  // The trunk's outputs in float32 (bf16 autocast) and the fused vector.
  ModelOutput finish(TrunkOutput trunk);
};
TORCH_MODULE(MultiTaskModel);

// BERT initialisation: Linear/Embedding weights ~ N(0, initializer_range), biases 0,
// LayerNorm weight 1 and bias 0. Deterministic given torch's global seed.
void initialize_weights(MultiTaskModelImpl& model);

}  // namespace vlmt

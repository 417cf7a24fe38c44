#pragma once
// Loss and batch metric of each task type, as released (SPEC.md "Heads" and "Losses").
// One interface, one implementation per task type; the trainer and evaluator only see this.
#include <torch/torch.h>

#include <memory>

#include "data/batch.h"
#include "model/multitask_model.h"
#include "tasks/task_table.h"

namespace vlmt {

struct ObjectiveResult {
  torch::Tensor loss;        // scalar, differentiable (already × the released loss scaling)
  double score_sum = 0;      // sum of per-item scores (VQA soft accuracy, hit, ...)
  int64_t count = 0;         // items scored
  torch::Tensor logits;      // per-item scores over the task's choices, detached
  torch::Tensor prediction;  // [size] int64 argmax over the choices
  torch::Tensor item_scores; // [size] float64 CPU, each item's score (sums to score_sum)
};

class TaskObjective {
 public:
  virtual ~TaskObjective() = default;
  virtual ObjectiveResult compute(MultiTaskModelImpl& model, const Batch& batch) const = 0;
};

// The objective of a task type.
std::unique_ptr<TaskObjective> make_objective(TaskType type);

// Pretraining (masked words, masked regions via KL to the detector distribution, alignment).
struct PretrainResult {
  torch::Tensor loss;
  torch::Tensor lm_loss, region_loss, alignment_loss;  // detached parts
  double alignment_correct = 0;
  int64_t count = 0;
};
PretrainResult pretrain_objective(MultiTaskModelImpl& model, const Batch& batch);

}  // namespace vlmt

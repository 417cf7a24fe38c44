#pragma once
// train.head_bias_init = "prior": a BCE-trained head's output bias starts at the log-odds of its
// tasks' target base rate instead of 0 (the released initialisation).
//
// Why: with sparse BCE targets (one region of ~25, one answer of 64) and logits starting at 0,
// the first updates push every logit of every item down at once. In a small model trained from
// scratch that common push reaches the shared trunk and makes all regions (all items) look
// alike; the loss then sits at the constant-prediction level for hundreds of iterations
// (measured on the synthetic world: docs/TRAINING.md "Head bias prior"). Starting at the base
// rate removes the common push, so the gradient that remains is the one that tells items apart.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "catalog/task_spec.h"
#include "data/task_dataset.h"
#include "model/multitask_model.h"

namespace vlmt {

struct HeadPriorSource {
  const TaskSpec* spec;
  const TaskDataset* train;  // its training split
};

struct HeadPrior {
  std::string parameter;            // e.g. "vision_logit.bias"
  double base_rate = 0;             // mean over the head's tasks
  double bias = 0;                  // the value set: log(p / (1 − p))
  std::vector<std::string> tasks;   // the tasks it was measured on
};

// For every head whose kind has a target base rate (TaskKind::target_base_rate), measured on the
// first `items` items of each of its tasks' training splits (a fixed RNG: the same on every
// rank), sets the head's output bias (its last bias parameter) to log(p / (1 − p)), p clamped to
// [1e-4, 1 − 1e-4]. Parameters named in `keep` (loaded from train.init_from) are left as they are.
std::vector<HeadPrior> set_head_bias_priors(MultiTaskModelImpl& model, const std::vector<HeadPriorSource>& sources,
                                            const std::set<std::string>& keep, int64_t items = 64);

}  // namespace vlmt

#pragma once
// Random but well-formed batches of any task, for model tests and tools/dev/bench_step: the common
// model inputs here, the row layout and targets from the task's kind.
#include <torch/torch.h>

#include <string>

#include "catalog/task_spec.h"
#include "config/model_config.h"
#include "data/batch.h"

namespace vlmt {

// A batch of `size` items of a task (pretraining included).
Batch random_batch(const ModelConfig& c, const TaskSpec& spec, int64_t size, int64_t text_len = 8,
                   int64_t regions = 6, torch::ScalarType dtype = torch::kFloat32);

}  // namespace vlmt

#pragma once
// Random but well-formed batches of any task, for model tests and tools/dev/bench_step: the common
// model inputs here, the row layout and targets from the task's kind.
#include <torch/torch.h>

#include <string>

#include "config/run_config.h"
#include "data/batch.h"

namespace vlmt {

// A batch of `size` items for `task_key` ("pretrain" included).
Batch random_batch(const ModelConfig& c, const std::string& task_key, int64_t size, int64_t text_len = 8,
                   int64_t regions = 6, torch::ScalarType dtype = torch::kFloat32);

}  // namespace vlmt

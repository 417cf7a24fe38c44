#pragma once
// Model-test helpers: the tiny preset and random batches (tasks/random_batch.h).
#include <string>

#include "config/run_config.h"
#include "tasks/random_batch.h"
#include "tasks/task_kind.h"
#include "test_paths.h"

namespace vlmt::testing {

inline ModelConfig tiny_config(TaskTokenMode mode = TaskTokenMode::kPerDataset) {
  ModelConfig c = load_model_preset("tiny", std::string(VLMT_SOURCE_DIR) + "/configs");
  c.task_token = mode;
  return c;
}
using vlmt::random_batch;

}  // namespace vlmt::testing

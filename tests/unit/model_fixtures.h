#pragma once
// Model-test helpers: the tiny preset and random batches (model/random_batch.h).
#include <string>

#include "config/run_config.h"
#include "model/random_batch.h"

namespace vlmt::testing {

inline ModelConfig tiny_config(TaskTokenMode mode = TaskTokenMode::kPerDataset) {
  ModelConfig c = load_model_preset("tiny", std::string(VLMT_SOURCE_DIR) + "/configs");
  c.task_token = mode;
  return c;
}
using vlmt::random_batch;

}  // namespace vlmt::testing

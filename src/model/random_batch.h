#pragma once
// Random but well-formed batches of any task type, for model tests and tools/bench_step.
#include <torch/torch.h>

#include <string>

#include "config/run_config.h"
#include "data/batch.h"
#include "tasks/task_table.h"

namespace vlmt {

// A batch of `size` items for `task_key` with the row layout and target of its type.
inline Batch random_batch(const ModelConfig& c, const std::string& task_key, int64_t size, int64_t text_len = 8,
                          int64_t regions = 6, torch::ScalarType dtype = torch::kFloat32) {
  const TaskSpec& spec = task_key.empty() ? all_tasks()[0] : task_by_key(task_key);
  Batch b;
  b.task = task_key;
  b.task_id = task_key.empty() ? 0 : spec.id;
  b.size = size;
  b.rows_per_item = spec.type == TaskType::kVLLogit ? 4 : spec.type == TaskType::kVLBinaryClassifier ? 2 : 1;
  const int64_t rows = b.rows();
  b.input_ids = torch::randint(5, c.vocab_size, {rows, text_len}, torch::kInt64);
  b.input_ids.select(1, 0).fill_(2);
  b.segment_ids = torch::zeros({rows, text_len}, torch::kInt64);
  b.text_mask = torch::ones({rows, text_len}, torch::kInt64);
  b.text_mask.narrow(1, text_len - 2, 2).zero_();  // two padding tokens
  b.features = torch::randn({rows, regions, c.v_feature_size}, dtype);
  b.spatials = torch::rand({rows, regions, 5}, dtype);
  b.image_mask = torch::ones({rows, regions}, torch::kInt64);
  b.image_mask.narrow(1, regions - 1, 1).zero_();  // one padding region
  switch (spec.type) {
    case TaskType::kVLClassifier:
    case TaskType::kVLClassifierGQA: {
      const int64_t answers = spec.type == TaskType::kVLClassifier ? c.num_vqa_answers : c.num_gqa_answers;
      b.target = torch::zeros({size, answers}, dtype);
      for (int64_t i = 0; i < size; ++i) b.target[i][i % answers] = 1.0, b.target[i][(i + 1) % answers] = 0.3;
      break;
    }
    case TaskType::kVLLogit: b.target = torch::randint(0, 4, {size}, torch::kInt64); break;
    case TaskType::kVLogit:
      b.target = torch::zeros({size, regions}, dtype);
      b.target.select(1, 1).fill_(0.8);
      break;
    case TaskType::kVLogitMC:
      b.choice_ids = torch::tensor({1, 2, 3, 4}, torch::kInt64).repeat({size, 1});
      b.target = torch::zeros({size, 4}, dtype);
      b.target.select(1, 2).fill_(1.0);
      break;
    case TaskType::kVLBinaryClassifier:
      b.target = torch::zeros({size, 2}, dtype);
      b.target.select(1, 1).fill_(1.0);
      break;
    case TaskType::kVLTriClassifier:
      b.target = torch::zeros({size, 3}, dtype);
      b.target.select(1, 0).fill_(1.0);
      break;
  }
  if (task_key.empty()) {  // pretraining
    b.lm_labels = torch::full({rows, text_len}, -1, torch::kInt64);
    b.lm_labels.select(1, 2).copy_(b.input_ids.select(1, 2));
    b.region_targets = torch::softmax(torch::randn({rows, regions, c.v_target_size}, dtype), -1);
    b.region_masked = torch::zeros({rows, regions}, torch::kInt64);
    b.region_masked.select(1, 2).fill_(1);
    b.is_aligned = torch::randint(0, 2, {rows}, torch::kInt64);
  }
  return b;
}

}  // namespace vlmt

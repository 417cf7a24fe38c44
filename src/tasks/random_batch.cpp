#include "tasks/random_batch.h"

#include "tasks/task_kind.h"

namespace vlmt {

Batch random_batch(const ModelConfig& c, const TaskSpec& spec, int64_t size, int64_t text_len, int64_t regions,
                   torch::ScalarType dtype) {
  const TaskKind& kind = kind_of(spec);
  Batch b;
  b.task = spec.key;
  b.task_id = spec.id;
  b.task_group = spec.group;
  b.size = size;
  b.rows_per_item = kind.random_rows_per_item();
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
  kind.fill_random_targets(b, c, regions, dtype);
  return b;
}

}  // namespace vlmt

#pragma once
// The `evaluate` batch job: scores a trained model on a task's split, distributed over ranks
// (each rank a shard; sums and score matrices all-reduced), and writes results.jsonl plus the
// evaluation servers' submission files (docs/EVALUATION.md). How a task is scored is its kind's
// evaluation policy (TaskKind::evaluate, tasks/evaluation_run.h); this job resolves the split
// and records the result.
#include <string>
#include <vector>

#include "config/run_config.h"
#include "distributed/communicator.h"
#include "eval/results.h"
#include "model/multitask_model.h"

namespace vlmt {

struct EvaluationOptions {
  std::string split = "val";   // val (= each task's released val split) | test (= each task's Table 2
                               // protocol: TaskSpec::paper_split) | test-dev | testA | any file name
  std::string out_dir;         // results.jsonl, submissions/
  std::string run_name;        // "run" field of the records
  int64_t max_items = 0;       // 0 = all (smoke runs)
};

class Evaluator {
 public:
  Evaluator(const RunConfig& config, MultiTaskModel model, Communicator& comm, torch::Device device);
  // Evaluates one task; rank 0 appends the record to <out_dir>/results.jsonl.
  ResultRecord evaluate(const std::string& task_key, const EvaluationOptions& options);

 private:
  // "test" → the task's evaluation protocol (TaskSpec::paper_split: VQA test-dev, ...).
  std::string protocol_split(const TaskSpec& spec, const std::string& split) const;
  std::string split_file(const TaskSpec& spec, const std::string& split) const;

  const RunConfig& config_;
  MultiTaskModel model_;
  Communicator& comm_;
  torch::Device device_;
  std::string data_root_;
};

// Splits of a task that exist under the data root (for error messages).
std::vector<std::string> available_splits(const std::string& data_root, const std::string& task_key);

}  // namespace vlmt

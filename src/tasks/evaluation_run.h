#pragma once
// One task's evaluation on one split, as the `evaluate` job hands it to the task's kind
// (TaskKind::evaluate): the model, the ranks, the split, where results go, and the shared steps
// every kind's policy uses (item records gathered on rank 0, the per-item predictions file, the
// evaluation server's submission file).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "catalog/task_spec.h"
#include "config/run_config.h"
#include "distributed/communicator.h"
#include "eval/results.h"
#include "model/multitask_model.h"

namespace vlmt {

class TaskDataset;

// The evaluation servers' formats that write_submission knows (TaskSpec::submission names one).
std::vector<std::string> submission_format_names();

class EvaluationRun {
 public:
  EvaluationRun(const RunConfig& config, const TaskSpec& spec, MultiTaskModelImpl& model, Communicator& comm,
                torch::Device device, std::string split_file, std::string split_label, std::string out_dir,
                int64_t max_items);

  const RunConfig& config;
  const TaskSpec& spec;
  MultiTaskModelImpl& model;
  Communicator& comm;
  torch::Device device;
  const std::string split_file;   // the annotation file's split name (val mapped to the task's)
  const std::string split_label;  // the split as asked for (records and file names)
  const std::string out_dir;
  const int64_t max_items;        // 0 = all

  // The split's dataset (training hyper-parameters of the task; clean split as configured).
  std::unique_ptr<TaskDataset> open_dataset() const;
  // Items of the split this evaluation scores (max_items applied); remembers both counts.
  int64_t items(const TaskDataset& dataset) const;
  // Whether max_items left part of the split out (known once items() was called): the record
  // says so and a submission file is named *.partial.*, never mistaken for a complete one.
  bool truncated() const { return evaluated_items_ >= 0 && evaluated_items_ < split_items_; }
  int64_t split_items() const { return split_items_; }
  int64_t evaluated_items() const { return evaluated_items_; }
  // Per-rank batch size: the task's batch split over the ranks.
  int64_t rank_batch() const;
  // Rank 0 gets every rank's records (ranks write part files in out_dir, then merge).
  std::vector<nlohmann::json> gather_items(const std::vector<nlohmann::json>& mine, const std::string& tag) const;
  // Rank 0: writes <out_dir>/predictions/<task>_<split>.jsonl (one object per item, split order;
  // `index` fields are consumed) and returns its path.
  std::string write_item_predictions(std::vector<nlohmann::json>& items) const;
  // Rank 0: the evaluation server's file for the task's submission format (none when the task
  // has no server format); returns its path or "".
  std::string write_submission(const std::vector<nlohmann::json>& items) const;

 private:
  mutable int64_t split_items_ = -1, evaluated_items_ = -1;
};

// The chance level of a split, percent (TaskKind::choice_scores): summed over the judged items
// of each batch, then over the ranks. An answer prior's width 0 (no items anywhere) gives none.
class ChanceLevel {
 public:
  explicit ChanceLevel(bool answer_prior);
  void add(const torch::Tensor& choice_scores, const std::vector<int64_t>& items);
  std::optional<double> percent(Communicator& comm) const;  // collective

 private:
  bool answer_prior_;
  double items_ = 0, uniform_sum_ = 0;
  torch::Tensor answer_sums_;  // [answers] float64: each answer's score summed over items (undefined: none yet)
};

// The generic policy: every item through the kind's objective, judged by the kind's judge;
// score = 100 × mean over items with ground truth.
ResultRecord evaluate_items(EvaluationRun& run);

}  // namespace vlmt

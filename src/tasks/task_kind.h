#pragma once
// A task kind: everything that differs between the released head types, in one object. The
// trainer, the evaluate job, `infer`, the data checks and the test batches only talk to kinds;
// nothing outside src/tasks/ asks which kind or which dataset it has.
//
// Kinds as released (names: `type` in vilbert_tasks.yml, heads vilbert/vilbert.py, losses
// vilbert/task_utils.py): VL-classifier (VQA, VG QA), VL-classifier-GQA, VL-logit (retrieval),
// V-logit (referring expressions), V-logit-mc (Visual7W, GuessWhat), VL-binary-classifier
// (NLVR2), VL-tri-classifier (SNLI-VE), and pretraining (masked words and regions, alignment).
//
// A new kind: tasks/kind_<name>.cpp defining a TaskKind, its accessor in tasks/kinds.h, one line
// in tasks/task_kinds.cpp and the kind count of a unit test (docs/ARCHITECTURE.md).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/task_catalog.h"
#include "config/run_config.h"
#include "data/batch.h"
#include "data/task_dataset.h"
#include "eval/results.h"
#include "model/multitask_model.h"

namespace vlmt {

class EvaluationRun;
struct InferenceRequest;

// A validation metric besides the score, reported as sum / count over the split (all ranks).
struct MetricSum {
  std::string name;  // metrics.jsonl key, e.g. "masked_word_accuracy"
  double sum = 0;
  double count = 0;
};

struct ObjectiveResult {
  torch::Tensor loss;        // scalar, differentiable (already × the released loss scaling)
  double score_sum = 0;      // sum of per-item scores (VQA soft accuracy, hit, aligned, ...)
  int64_t count = 0;         // items scored
  torch::Tensor logits;      // per-item scores over the task's choices, detached
  torch::Tensor prediction;  // [size] int64 argmax over the choices
  torch::Tensor item_scores; // [size] float64 CPU, each item's score (sums to score_sum)
  std::vector<MetricSum> metrics;  // the kind's further metrics, in TaskKind::metric_names() order
  std::vector<double> loss_parts;  // the terms `loss` sums, in TaskKind::loss_part_names() order
};

// What a kind's dataset factory may open besides the common context.
struct DatasetSources {
  std::string data_root;
  const DataConfig& data;
  const ModelConfig& model;
  const TrainConfig& train;
};

// Per-item judgement inside the generic evaluation loop (tasks/evaluation_run.h).
class ItemJudge {
 public:
  virtual ~ItemJudge() = default;
  // Adds the kind's fields to item k's record (e.g. the answer string) and returns its official
  // score in [0, 1], or nullopt when the item has no ground truth (test splits).
  virtual std::optional<double> judge(nlohmann::json& item, const Batch& batch, const ObjectiveResult& result,
                                      int64_t k) const = 0;
  // Whether a scored item counts as right (MT-VGC's y(q) for VQA; a hit elsewhere).
  virtual bool correct(double score) const { return score > 0.5; }
};

// What `infer` gives a kind to format its answer.
struct InferenceContext {
  const TaskSpec& spec;
  std::string data_root;
  const std::vector<std::string>& image_ids;   // one per row
  const std::vector<torch::Tensor>& boxes;     // [R, 4] region boxes of each row (IMG row first)
  int top = 5;
};

class TaskKind {
 public:
  virtual ~TaskKind() = default;
  virtual std::string name() const = 0;  // the released type name, e.g. "VL-classifier"
  virtual std::string head() const = 0;  // head module in the released state_dict
  // What its validation and evaluation score means (TaskSpec::metric of declared datasets).
  virtual std::string default_metric() const { return "accuracy"; }
  // False only for pretraining, which is a stage of its own rather than a dataset.
  virtual bool is_dataset_kind() const { return true; }

  // ---- data
  // The dataset of one split; `ctx` has the task's annotation file, vocabulary and features open.
  virtual std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec& spec,
                                                    const DatasetSources& sources) const = 0;
  // Whether the dataset of `split` also reads <source>_gt.h5 (ground-truth box features) under
  // the run's train.* settings.
  virtual bool reads_gt_features(const std::string& /*split*/, const TrainConfig&) const { return false; }
  // Whether the dataset needs the detector's class distributions (/cls_prob) in its features.
  virtual bool reads_class_distributions() const { return false; }
  // Parses an annotation file of this kind's schema (DataError naming file and line if malformed).
  virtual void check_annotations(const std::string& path) const = 0;
  // Reads the task's other files (answer vocabularies, hard-negative pools), DataError naming
  // the file if unusable.
  virtual void check_side_files(const std::string& data_root, const TaskSpec& spec) const {}
  // Whether a .jsonl file of the task's annotation folder is such a side file, not a split.
  virtual bool is_side_file(const std::string& /*file_name*/) const { return false; }
  // The answer vocabulary a training dataset of this kind indexes (row order), or nullptr for
  // kinds without one. Training stores it with the weights (model/provenance.h).
  virtual const std::vector<std::string>* answer_vocabulary(const TaskDataset& /*dataset*/) const { return nullptr; }
  // Rows per item of an inference request with `images` images (2 for a pair, else 1).
  virtual int rows_per_inference_item() const { return 1; }

  // ---- objective: loss (with the released scaling), batch metric, per-item scores
  virtual ObjectiveResult compute(MultiTaskModelImpl& model, const Batch& batch) const = 0;
  // Names of the further validation metrics compute() reports (ObjectiveResult::metrics, same
  // order); known without a batch, so every rank sums them in the same layout.
  virtual std::vector<std::string> metric_names() const { return {}; }
  // Names of the terms a loss of several sums (ObjectiveResult::loss_parts, same order), logged
  // beside the loss in training and validation; none for a loss of one term.
  virtual std::vector<std::string> loss_part_names() const { return {}; }
  // Whether the head runs on every region (the cost model of tools/dev/bench_step).
  virtual bool head_per_region() const { return false; }

  // ---- test batches: the target (and row layout) of a random, well-formed batch
  virtual int random_rows_per_item() const { return 1; }
  virtual void fill_random_targets(Batch& batch, const ModelConfig& config, int64_t regions,
                                   torch::ScalarType dtype) const = 0;

  // ---- initialisation (train.head_bias_init = "prior"): the base rate of the kind's BCE targets
  // in a training batch — the mean target over each item's available choices; nullopt for kinds
  // not trained with BCE (their heads keep the released initialisation).
  virtual std::optional<double> target_base_rate(const Batch& /*batch*/) const { return std::nullopt; }

  // ---- chance level, printed beside each score: the expected score of a uniform choice among an
  // item's choices (regions, candidates, images), or, for kinds that answer from one fixed set
  // (answers, true/false, SNLI-VE's labels), the best constant answer's score on the split.
  virtual bool chance_is_answer_prior() const { return false; }
  // [items, choices] float64 CPU: the score item k would get for choice c, NaN where item k has
  // no choice c (masked logits). Default: the objective's target row (one-hot kinds; the soft
  // answer scores of the classifiers).
  virtual torch::Tensor choice_scores(const Batch& batch, const ObjectiveResult& result) const;

  // ---- evaluation: the default scores each item with compute() through make_judge()
  virtual ResultRecord evaluate(EvaluationRun& run) const;
  virtual std::unique_ptr<ItemJudge> make_judge(const EvaluationRun& run, const TaskDataset& dataset) const;

  // ---- inference
  // Checks (and completes: retrieval defaults to every image) the images of a request.
  virtual std::vector<std::string> inference_images(const TaskSpec& spec, std::vector<std::string> requested,
                                                    const std::vector<std::string>& all_images) const;
  // The answer fields of `infer`'s JSON for one request.
  virtual nlohmann::json format_inference(MultiTaskModelImpl& model, const ModelOutput& out, const Batch& batch,
                                          const InferenceContext& ctx) const = 0;
};

// The registered kinds (tasks/task_kinds.cpp) and lookup by name (ConfigError listing names).
const std::vector<const TaskKind*>& all_task_kinds();
const TaskKind& task_kind(const std::string& name);

// A dataset's kind (ConfigError naming the task for an unregistered kind name), the parameter
// prefix of its head ("vil_prediction.") and its validation metric (the spec's, else its kind's).
const TaskKind& kind_of(const TaskSpec& spec);
std::string head_prefix(const TaskSpec& spec);
std::string metric_of(const TaskSpec& spec);
// The kind registry's check of a catalogue: every dataset's kind is registered and is a dataset
// kind, and its submission format, when it names one, is one the evaluation writes. Each
// declared dataset that fails is an issue of `tasks.<key>.kind` (`.submission`) in the file that
// declared it (train/config_checks.h collects them with the config's own); the second form
// throws one ConfigError naming them all.
void check_task_kinds(const TaskCatalog& catalog, ConfigIssues& issues);
void check_task_kinds(const TaskCatalog& catalog);

}  // namespace vlmt

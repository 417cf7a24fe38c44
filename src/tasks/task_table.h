#pragma once
// The datasets vlmt trains on and the facts about them that do not change between runs: the
// official task id (= row of the task-token table), the task kind (which fixes the dataset
// schema, head, loss, metric, evaluation and inference: tasks/task_kind.h), the task group
// G1..G4, the paper's display names, the evaluation server's submission format and the
// released hyper-parameters (Table 8, released vilbert_tasks.yml; configs/tasks.toml overrides).
//
// The 12 datasets of 12-in-1 are built in (all_tasks(), the paper's Table 2 order). A run's
// config may declare more datasets of an existing kind (`[tasks.<key>] kind = ...`,
// config/run_config.cpp): they are registered here and are then found like the built-in ones.
// Pretraining on the captions corpus is one more task (pretraining_task()), of the pretraining
// kind, that is not among the datasets.
#include <deque>
#include <string>
#include <vector>

namespace vlmt {

class TaskKind;

enum class TaskGroup { kPretraining = 0, kVocabVQA = 1, kRetrieval = 2, kReferring = 3, kVerification = 4 };

// A column of the paper's Table 11 showing an extra of the task's result record beside its
// score, e.g. retrieval's {"RC R@5", "r5"} (eval/results.h: extras).
struct ExtraScoreColumn {
  std::string heading;
  std::string extra;
};

struct TaskSpec {
  std::string key;           // config / command-line name, e.g. "vqa", "refcoco+", "nlvr2"
  std::string name;          // official (released) name, e.g. "VQA", "RetrievalCOCO"
  int id = 0;                // official task id = task-token row (0: pretraining, no token)
  std::string kind_name;     // registered kind, e.g. "VL-classifier" (tasks/task_kind.h)
  TaskGroup group = TaskGroup::kVocabVQA;
  std::string metric;        // what the validation score means
  // Released defaults (overridable in configs/tasks.toml):
  int max_text = 0;
  int max_regions = 0;
  int batch_size = 0;
  double lr = 0;
  int epochs = 0;
  std::string val_split;
  std::string image_source;  // which region-feature file its images come from
  // How the paper and the evaluation servers name and read it:
  std::string column;        // Table 2 column, e.g. "VQAv2", "V7W"
  std::string dataset_name;  // Tables 1 and 7 row, e.g. "VQA2.0", "Visual 7W"
  int table1_row = -1;       // position among Table 1's rows [A]..[L] (-1: not in Table 1)
  std::string submission;    // submission format of its test server ("" = predictions only)
  std::string shared_answers;// task whose answers.json it uses when it has none of its own
  bool exact_answer_match = false;  // official scoring: exact string match (GQA), else VQA metric
  bool builtin = true;       // one of the 12 (false: declared in a config)
  // Whose ids its image ids are, for the clean split ("" = image_source's own: GQA's images
  // are Visual Genome images, "vg").
  std::string image_namespace;
  // Evaluation protocols by name. `reported_split`: the split the paper's Table 2 reports (its
  // "Clean" row), which `evaluate --split test` maps to ("" = "test"). `test_splits`: every test
  // split of the released data; clean_split removes their images from training data and fails
  // when one is missing. RefCOCO/RefCOCO+'s "test" is testA ∪ testB, as the released refer tool
  // reads it.
  std::string reported_split;
  std::vector<std::string> test_splits = {"test"};
  // The paper's Table 11 (per-task scores for DSG iteration gaps): the task's place among its
  // columns (-1: not in it; its G1 order is not Table 2's), its heading and the extras shown
  // after its score.
  int table11_position = -1;
  std::string table11_column;
  std::vector<ExtraScoreColumn> table11_extras;

  const std::string& paper_split() const;  // reported_split, "test" when empty

  const std::string& id_namespace() const { return image_namespace.empty() ? image_source : image_namespace; }
  const TaskKind& kind() const;  // throws ConfigError for an unregistered kind name
  std::string head_prefix() const;  // the head's parameter prefix, e.g. "vil_prediction."
};

// Every dataset: the 12 in the paper's Table 2 order, then those declared by configs (a deque:
// registering one never moves the others, so references to specs stay valid).
const std::deque<TaskSpec>& all_tasks();
// The captions corpus with the pretraining objective.
const TaskSpec& pretraining_task();
// Lookup by key (case-insensitive) or official name, datasets and pretraining alike; throws
// ConfigError listing the valid keys.
const TaskSpec& task_by_key(const std::string& key);
const TaskSpec& task_by_id(int id);
// Adds a dataset declared in a config (an empty metric becomes its kind's). Registering an identical spec again is a no-op; a key,
// name or task id already taken by a different spec, an unknown kind, or an id outside the
// task-token table throws ConfigError naming `origin`.
const TaskSpec& register_task(TaskSpec spec, const std::string& origin);
int group_index(TaskGroup g);  // 0..4
// How the paper's tables head a dataset group: `column` in Tables 2 and 6 ("G2"), `mean_column`
// in Table 11 ("Mean G2 (R1)": its retrieval columns show R@1, R@5 and R@10; the mean is R@1's).
struct GroupHeadings {
  int group = 0;  // 1..4
  std::string column;
  std::string mean_column;
};
// The dataset groups G1..G4 in order (pretraining is none of them).
std::vector<GroupHeadings> dataset_groups();
// Number of task-token rows in the released table.
constexpr int kTaskTokenRows = 20;
// Task keys of one group (for GT configs and the curriculum ablations).
std::vector<std::string> task_keys_in_group(int group);

}  // namespace vlmt

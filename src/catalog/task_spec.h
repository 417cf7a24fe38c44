#pragma once
// One dataset as plain data: the facts about it that do not change between runs. The official
// task id (= row of the task-token table), the kind's name (tasks/task_kind.h maps a spec to its
// behaviour: kind_of), the task group G1..G4, the paper's display names, the evaluation server's
// submission format and the released hyper-parameters (Table 8, the released vilbert_tasks.yml;
// a run's [tasks.<key>] overrides them, config/run_config.h TaskHyper).
#include <string>
#include <vector>

namespace vlmt {

enum class TaskGroup { kPretraining = 0, kVocabVQA = 1, kRetrieval = 2, kReferring = 3, kVerification = 4 };

inline int group_index(TaskGroup g) { return static_cast<int>(g); }  // 0..4

// Number of task-token rows in the released table (task ids 1..19 are datasets, 0 pretraining).
constexpr int kTaskTokenRows = 20;

// A column of the paper's Table 11 showing an extra of the task's result record beside its
// score, e.g. retrieval's {"RC R@5", "r5"} (eval/results.h: extras).
struct ExtraScoreColumn {
  std::string heading;
  std::string extra;
};

// What a dataset trains with: the released values in the catalogue (TaskSpec::released); a run's
// resolved values in config (config/run_config.h TaskHyper, which adds the feature files).
struct TaskHyperParams {
  int batch_size = 0;  // global, summed over ranks
  double lr = 0;
  int max_text = 0;
  int max_regions = 0;
  int epochs = 0;
  std::string val_split;
};

struct TaskSpec {
  std::string key;           // config / command-line name, e.g. "vqa", "refcoco+", "nlvr2"
  std::string name;          // official (released) name, e.g. "VQA", "RetrievalCOCO"
  int id = 0;                // official task id = task-token row (0: pretraining, no token)
  std::string kind_name;     // registered kind, e.g. "VL-classifier" (tasks/task_kind.h)
  TaskGroup group = TaskGroup::kVocabVQA;
  std::string metric;        // what the validation score means ("" = its kind's: tasks/ metric_of)
  TaskHyperParams released;  // a run's [tasks.<key>] overrides them
  std::string image_source;  // which region-feature file its images come from
  // How the paper and the evaluation servers name and read it:
  std::string column;        // Table 2 column, e.g. "VQAv2", "V7W"
  std::string dataset_name;  // Tables 1 and 7 row, e.g. "VQA2.0", "Visual 7W"
  int table1_row = -1;       // position among Table 1's rows [A]..[L] (-1: not in Table 1)
  std::string submission;    // submission format of its test server ("" = predictions only)
  std::string shared_answers;// task whose answers.json it uses when it has none of its own
  bool exact_answer_match = false;  // official scoring: exact string match (GQA), else VQA metric
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
  std::string declared_in;   // a declared dataset: the config file that declared it ("": built in)

  bool builtin() const { return declared_in.empty(); }  // one of the 12
  const std::string& paper_split() const;  // reported_split, "test" when empty
  const std::string& id_namespace() const { return image_namespace.empty() ? image_source : image_namespace; }
};

}  // namespace vlmt

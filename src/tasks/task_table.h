#pragma once
// The 12 datasets of 12-in-1 and the structural facts about them that do not change between
// runs: the official task id (= row of the task-token table), the task type (which fixes the
// head, the loss and the batch metric), the head module name and the task group G1..G4.
// Hyper-parameters (batch size, LR, lengths) live in configs/tasks.toml; the defaults here are
// the released values (Table 8, SPEC.md) so that the library works without that file.
#include <string>
#include <vector>

namespace vlmt {

enum class TaskType {
  kVLClassifier,      // VQA, VG QA: vil_prediction
  kVLClassifierGQA,   // GQA: vil_prediction_gqa
  kVLLogit,           // retrieval: vil_logit, 4-way multiple choice in training
  kVLogit,            // RefCOCO/+/g: vision_logit over all regions
  kVLogitMC,          // Visual7W, GuessWhat: vision_logit over candidate boxes
  kVLBinaryClassifier,// NLVR2: vil_binary_prediction over two fused vectors
  kVLTriClassifier,   // SNLI-VE: vil_tri_prediction
};

enum class TaskGroup { kVocabVQA = 1, kRetrieval = 2, kReferring = 3, kVerification = 4 };

struct TaskSpec {
  std::string key;         // config / command-line name, e.g. "vqa", "refcoco+", "nlvr2"
  std::string name;        // official name, e.g. "VQA", "RetrievalCOCO"
  int id;                  // official task id = task-token row
  TaskType type;
  TaskGroup group;
  std::string head;        // module name of the head in the state_dict
  std::string metric;      // what the validation score means
  // Released defaults (overridable in configs/tasks.toml):
  int max_text;
  int max_regions;
  int batch_size;
  double lr;
  int epochs;
  std::string val_split;
  std::string image_source;  // which region-feature file its images come from
};

// All 12, in the paper's Table 2 order.
const std::vector<TaskSpec>& all_tasks();
// Lookup by key (case-insensitive) or official name; throws ConfigError listing valid keys.
const TaskSpec& task_by_key(const std::string& key);
const TaskSpec& task_by_id(int id);
std::string task_type_name(TaskType type);
int group_index(TaskGroup g);  // 1..4
// Number of task-token rows in the released table.
constexpr int kTaskTokenRows = 20;
// Task keys of one group (for GT configs and the curriculum ablations).
std::vector<std::string> task_keys_in_group(int group);

}  // namespace vlmt

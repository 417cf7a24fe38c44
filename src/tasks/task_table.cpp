#include "tasks/task_table.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/error.h"
#include "core/log.h"
#include "tasks/task_kind.h"

namespace vlmt {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::deque<TaskSpec> builtin_tasks() {
  using G = TaskGroup;
  // Values: the released vilbert_tasks.yml (task_id, type, max_seq_length, max_region_num,
  // batch_size, lr, num_epoch, val_split), the paper's Table 8 (hyper-parameters), Table 2
  // (column names), Table 1 (dataset names and row order).
  // key, name, id, kind, group, metric, max_text, max_regions, batch, lr, epochs, val split,
  // image source, column, dataset name, Table 1 row, submission, shared answers, exact match
  return {
      {"vqa", "VQA", 1, "VL-classifier", G::kVocabVQA, "vqa_accuracy", 23, 101, 128, 4e-5, 20, "minval", "coco",
       "VQAv2", "VQA2.0", 0, "vqa", "", false},
      {"gqa", "GQA", 15, "VL-classifier-GQA", G::kVocabVQA, "vqa_accuracy", 26, 101, 128, 4e-5, 20, "minval", "gqa",
       "GQA", "GQA", 2, "gqa", "", true, true, "vg"},
      {"vgqa", "GenomeQA", 2, "VL-classifier", G::kVocabVQA, "vqa_accuracy", 26, 101, 128, 4e-5, 20, "val", "vg",
       "VG QA", "VG QA", 1, "", "vqa", false},
      {"retrieval_coco", "RetrievalCOCO", 7, "VL-logit", G::kRetrieval, "recall@1", 30, 101, 128, 2e-5, 20, "val",
       "coco", "COCO", "COCO", 3, "", "", false},
      {"retrieval_flickr30k", "RetrievalFlickr30k", 8, "VL-logit", G::kRetrieval, "recall@1", 30, 101, 128, 2e-5, 20,
       "val", "flickr30k", "Flickr30k", "Flickr30K", 4, "", "", false},
      {"refcoco", "refcoco", 9, "V-logit", G::kReferring, "accuracy", 20, 101, 256, 2e-5, 20, "val", "coco",
       "RefCOCO", "RefCOCO", 5, "", "", false},
      {"refcoco+", "refcoco+", 10, "V-logit", G::kReferring, "accuracy", 20, 101, 256, 2e-5, 20, "val", "coco",
       "RefCOCO+", "RefCOCO+", 6, "", "", false},
      {"refcocog", "refcocog", 11, "V-logit", G::kReferring, "accuracy", 20, 101, 256, 2e-5, 20, "val", "coco",
       "RefCOCOg", "RefCOCOg", 7, "", "", false},
      {"visual7w", "Visual7w", 4, "V-logit-mc", G::kReferring, "accuracy", 20, 200, 256, 2e-5, 20, "val", "vg",
       "V7W", "Visual 7W", 8, "", "", false},
      {"guesswhat", "GuessWhatPointing", 17, "V-logit-mc", G::kReferring, "accuracy", 256, 306, 64, 2e-5, 20,
       "valid", "coco", "GW", "GuessWhat", 9, "", "", false},
      {"nlvr2", "NLVR2", 12, "VL-binary-classifier", G::kVerification, "accuracy", 40, 101, 64, 2e-5, 20, "dev",
       "nlvr2", "NLVR2", "NLVR2", 11, "nlvr2", "", false},
      {"snli_ve", "VisualEntailment", 13, "VL-tri-classifier", G::kVerification, "accuracy", 56, 101, 256, 2e-5,
       20, "dev", "flickr30k", "SNLI-VE", "SNLI-VE", 10, "", "", false},
  };
}

// Table 2's evaluation splits and the released test splits (supplement Sec. 8; the released
// refer tool reads RefCOCO's "test" as testA ∪ testB; NLVR2's test-P is the "test" file).
std::deque<TaskSpec> with_protocols(std::deque<TaskSpec> tasks) {
  const std::map<std::string, std::pair<std::string, std::vector<std::string>>> protocols = {
      {"vqa", {"test-dev", {"test-dev", "test"}}},
      {"gqa", {"test-dev", {"test-dev"}}},
      {"vgqa", {"val", {}}},
      {"refcoco", {"test", {"testA", "testB", "test"}}},
      {"refcoco+", {"test", {"testA", "testB", "test"}}},
  };
  for (auto& t : tasks) {
    auto it = protocols.find(t.key);
    if (it == protocols.end()) continue;
    t.reported_split = it->second.first;
    t.test_splits = it->second.second;
  }
  return tasks;
}

// The paper's Table 11 (DSG iteration gaps): the datasets' columns in its order (G1 is VQA, VG QA,
// GQA there), the retrieval tasks with R@5 and R@10 beside R@1.
std::deque<TaskSpec> with_table11_columns(std::deque<TaskSpec> tasks) {
  const std::vector<std::pair<std::string, std::pair<std::string, std::vector<ExtraScoreColumn>>>> columns = {
      {"vqa", {"VQA", {}}},
      {"vgqa", {"VG QA", {}}},
      {"gqa", {"GQA", {}}},
      {"retrieval_coco", {"RC R@1", {{"RC R@5", "r5"}, {"RC R@10", "r10"}}}},
      {"retrieval_flickr30k", {"RF R@1", {{"RF R@5", "r5"}, {"RF R@10", "r10"}}}},
      {"refcoco", {"RefCOCO", {}}},
      {"refcoco+", {"RefCOCO+", {}}},
      {"refcocog", {"RefCOCOg", {}}},
      {"visual7w", {"Visual 7W", {}}},
      {"guesswhat", {"GuessWhat", {}}},
      {"nlvr2", {"NLVR2", {}}},
      {"snli_ve", {"SNLI-VE", {}}},
  };
  for (size_t position = 0; position < columns.size(); ++position) {
    const auto& [key, column] = columns[position];
    const auto task = std::find_if(tasks.begin(), tasks.end(), [&](const TaskSpec& t) { return t.key == key; });
    if (task == tasks.end()) throw ConfigError(cat("Table 11's columns name \"", key, "\", not a built-in dataset"));
    task->table11_position = static_cast<int>(position);
    task->table11_column = column.first;
    task->table11_extras = column.second;
  }
  return tasks;
}

// The registry: built-ins first; configs append. Configs are read on the main thread before any
// data thread starts, so registration needs no lock (reads of all_tasks() never took one).
std::deque<TaskSpec>& registry() {
  static std::deque<TaskSpec> tasks = with_table11_columns(with_protocols(builtin_tasks()));
  return tasks;
}

bool same_spec(const TaskSpec& a, const TaskSpec& b) {
  return a.key == b.key && a.name == b.name && a.id == b.id && a.kind_name == b.kind_name &&
         a.group == b.group && a.metric == b.metric && a.max_text == b.max_text &&
         a.max_regions == b.max_regions && a.batch_size == b.batch_size && a.lr == b.lr &&
         a.epochs == b.epochs && a.val_split == b.val_split && a.image_source == b.image_source &&
         a.column == b.column && a.dataset_name == b.dataset_name && a.submission == b.submission &&
         a.shared_answers == b.shared_answers && a.exact_answer_match == b.exact_answer_match &&
         a.image_namespace == b.image_namespace;
}

std::string valid_keys() {
  std::string valid;
  for (const auto& t : all_tasks()) valid += (valid.empty() ? "" : ", ") + t.key;
  return valid + ", " + pretraining_task().key;
}

}  // namespace

const TaskKind& TaskSpec::kind() const { return task_kind(kind_name); }

const std::string& TaskSpec::paper_split() const {
  static const std::string test = "test";
  return reported_split.empty() ? test : reported_split;
}

std::string TaskSpec::head_prefix() const { return kind().head() + "."; }

const std::deque<TaskSpec>& all_tasks() { return registry(); }

const TaskSpec& pretraining_task() {
  // Pretraining's lengths are train_concap.py's defaults: 36 tokens, 36 detected regions + IMG
  // (concept_cap_dataset.py's region_len); batch, LR and epochs come from train.* (the stage has
  // one stream).
  static const TaskSpec spec = {"pretrain", "ConceptualCaptions", 0, "pretraining", TaskGroup::kPretraining,
                                "alignment_accuracy", 36, 37, 0, 0, 0, "val", "cc", "CC", "Conceptual Captions",
                                -1, "", "", false};
  return spec;
}

const TaskSpec& task_by_key(const std::string& key) {
  const std::string k = lower(key);
  for (const auto& t : all_tasks())
    if (t.key == k || lower(t.name) == k) return t;
  if (k == pretraining_task().key) return pretraining_task();
  throw ConfigError(cat("unknown task \"", key, "\"; valid tasks: ", valid_keys()));
}

const TaskSpec& task_by_id(int id) {
  for (const auto& t : all_tasks())
    if (t.id == id) return t;
  throw ConfigError(cat("unknown task id ", id));
}

namespace {

// Task keys, image sources and shared_answers become path components under the data root
// (annotations/<key>/, features/<image_source>.h5): never a '/', an absolute path or a way out.
constexpr const char* kSafePathNameRule =
    "made of letters, digits and _ + . - only, not starting with '.' and without \"..\"";
bool safe_path_name(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.find("..") == std::string::npos &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-") ==
             std::string::npos;
}

}  // namespace

const TaskSpec& register_task(TaskSpec spec, const std::string& origin) {
  spec.builtin = false;
  const TaskKind& kind = task_kind(spec.kind_name);  // throws for an unknown kind
  if (spec.metric.empty()) spec.metric = kind.default_metric();
  if (!safe_path_name(spec.key) || spec.key != lower(spec.key) || spec.key == pretraining_task().key)
    throw ConfigError(cat(origin, ": task key \"", spec.key, "\" must be lower case, ", kSafePathNameRule,
                          ", and not \"", pretraining_task().key, "\""));
  if (!safe_path_name(spec.image_source))
    throw ConfigError(cat(origin, ": task \"", spec.key, "\": image_source \"", spec.image_source, "\" must be ",
                          kSafePathNameRule));
  if (!spec.shared_answers.empty() && !safe_path_name(spec.shared_answers))
    throw ConfigError(cat(origin, ": task \"", spec.key, "\": shared_answers \"", spec.shared_answers,
                          "\" must be ", kSafePathNameRule));
  for (const auto& t : registry()) {
    if (t.key == spec.key) {
      if (!t.builtin && same_spec(t, spec)) return t;
      throw ConfigError(cat(origin, ": task \"", spec.key, "\" is already defined",
                            t.builtin ? " (a built-in dataset: override its hyper-parameters without `kind`)" : ""));
    }
    if (lower(t.name) == lower(spec.name))
      throw ConfigError(cat(origin, ": task \"", spec.key, "\": name \"", spec.name, "\" is taken by ", t.key));
    if (t.id == spec.id)
      throw ConfigError(cat(origin, ": task \"", spec.key, "\": id ", spec.id, " is taken by ", t.key,
                            " (each dataset has its own task-token row)"));
  }
  if (spec.id < 1 || spec.id >= kTaskTokenRows)
    throw ConfigError(cat(origin, ": task \"", spec.key, "\": id ", spec.id, " outside the task-token table 1..",
                          kTaskTokenRows - 1));
  if (!kind.is_dataset_kind())
    throw ConfigError(cat(origin, ": task \"", spec.key, "\": kind \"", spec.kind_name, "\" is not a dataset kind"));
  registry().push_back(std::move(spec));
  log::info0(cat("task ", registry().back().key, ": declared in ", origin, " (kind ", kind.name(), ", task id ",
                 registry().back().id, ")"));
  return registry().back();
}

int group_index(TaskGroup g) { return static_cast<int>(g); }

std::vector<GroupHeadings> dataset_groups() {
  return {{1, "G1", "Mean G1"}, {2, "G2", "Mean G2 (R1)"}, {3, "G3", "Mean G3"}, {4, "G4", "Mean G4"}};
}

std::vector<std::string> task_keys_in_group(int group) {
  std::vector<std::string> keys;
  for (const auto& t : all_tasks())
    if (group_index(t.group) == group) keys.push_back(t.key);
  return keys;
}

}  // namespace vlmt

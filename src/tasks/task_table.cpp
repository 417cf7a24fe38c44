#include "tasks/task_table.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

const std::vector<TaskSpec>& all_tasks() {
  using T = TaskType;
  using G = TaskGroup;
  // Values: SPEC.md "The 12 tasks" and the paper's Table 8.
  static const std::vector<TaskSpec> tasks = {
      {"vqa", "VQA", 1, T::kVLClassifier, G::kVocabVQA, "vil_prediction", "vqa_accuracy", 23, 101, 128, 4e-5, 20, "minval", "coco"},
      {"gqa", "GQA", 15, T::kVLClassifierGQA, G::kVocabVQA, "vil_prediction_gqa", "vqa_accuracy", 26, 101, 128, 4e-5, 20, "minval", "gqa"},
      {"vgqa", "GenomeQA", 2, T::kVLClassifier, G::kVocabVQA, "vil_prediction", "vqa_accuracy", 26, 101, 128, 4e-5, 20, "val", "vg"},
      {"retrieval_coco", "RetrievalCOCO", 7, T::kVLLogit, G::kRetrieval, "vil_logit", "recall@1", 30, 101, 128, 2e-5, 20, "val", "coco"},
      {"retrieval_flickr30k", "RetrievalFlickr30k", 8, T::kVLLogit, G::kRetrieval, "vil_logit", "recall@1", 30, 101, 128, 2e-5, 20, "val", "flickr30k"},
      {"refcoco", "refcoco", 9, T::kVLogit, G::kReferring, "vision_logit", "accuracy", 20, 101, 256, 2e-5, 20, "val", "coco"},
      {"refcoco+", "refcoco+", 10, T::kVLogit, G::kReferring, "vision_logit", "accuracy", 20, 101, 256, 2e-5, 20, "val", "coco"},
      {"refcocog", "refcocog", 11, T::kVLogit, G::kReferring, "vision_logit", "accuracy", 20, 101, 256, 2e-5, 20, "val", "coco"},
      {"visual7w", "Visual7w", 4, T::kVLogitMC, G::kReferring, "vision_logit", "accuracy", 20, 200, 256, 2e-5, 20, "val", "vg"},
      {"guesswhat", "GuessWhatPointing", 17, T::kVLogitMC, G::kReferring, "vision_logit", "accuracy", 256, 306, 64, 2e-5, 20, "valid", "coco"},
      {"nlvr2", "NLVR2", 12, T::kVLBinaryClassifier, G::kVerification, "vil_binary_prediction", "accuracy", 40, 101, 64, 2e-5, 20, "dev", "nlvr2"},
      {"snli_ve", "VisualEntailment", 13, T::kVLTriClassifier, G::kVerification, "vil_tri_prediction", "accuracy", 56, 101, 256, 2e-5, 20, "dev", "flickr30k"},
  };
  return tasks;
}

const TaskSpec& task_by_key(const std::string& key) {
  const std::string k = lower(key);
  for (const auto& t : all_tasks())
    if (t.key == k || lower(t.name) == k) return t;
  std::string valid;
  for (const auto& t : all_tasks()) valid += (valid.empty() ? "" : ", ") + t.key;
  throw ConfigError(cat("unknown task \"", key, "\"; valid tasks: ", valid));
}

const TaskSpec& task_by_id(int id) {
  for (const auto& t : all_tasks())
    if (t.id == id) return t;
  throw ConfigError(cat("unknown task id ", id));
}

std::string task_type_name(TaskType type) {
  switch (type) {
    case TaskType::kVLClassifier: return "VL-classifier";
    case TaskType::kVLClassifierGQA: return "VL-classifier-GQA";
    case TaskType::kVLLogit: return "VL-logit";
    case TaskType::kVLogit: return "V-logit";
    case TaskType::kVLogitMC: return "V-logit-mc";
    case TaskType::kVLBinaryClassifier: return "VL-binary-classifier";
    case TaskType::kVLTriClassifier: return "VL-tri-classifier";
  }
  return "?";
}

int group_index(TaskGroup g) { return static_cast<int>(g); }

std::vector<std::string> task_keys_in_group(int group) {
  std::vector<std::string> keys;
  for (const auto& t : all_tasks())
    if (group_index(t.group) == group) keys.push_back(t.key);
  return keys;
}

}  // namespace vlmt

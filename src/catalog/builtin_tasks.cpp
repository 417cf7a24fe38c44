#include "catalog/builtin_tasks.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/error.h"

namespace vlmt {
namespace {

std::vector<TaskSpec> released_tasks() {
  using G = TaskGroup;
  // Values: the released vilbert_tasks.yml (task_id, type, max_seq_length, max_region_num,
  // batch_size, lr, num_epoch, val_split), the paper's Table 8 (hyper-parameters), Table 2
  // (column names), Table 1 (dataset names and row order).
  // key, name, id, kind, group, metric, {batch, lr, max_text, max_regions, epochs, val split},
  // image source, column, dataset name, Table 1 row, submission, shared answers, exact match,
  // image namespace
  return {
      {"vqa", "VQA", 1, "VL-classifier", G::kVocabVQA, "vqa_accuracy", {128, 4e-5, 23, 101, 20, "minval"}, "coco",
       "VQAv2", "VQA2.0", 0, "vqa", "", false},
      {"gqa", "GQA", 15, "VL-classifier-GQA", G::kVocabVQA, "vqa_accuracy", {128, 4e-5, 26, 101, 20, "minval"}, "gqa",
       "GQA", "GQA", 2, "gqa", "", true, "vg"},
      {"vgqa", "GenomeQA", 2, "VL-classifier", G::kVocabVQA, "vqa_accuracy", {128, 4e-5, 26, 101, 20, "val"}, "vg",
       "VG QA", "VG QA", 1, "", "vqa", false},
      {"retrieval_coco", "RetrievalCOCO", 7, "VL-logit", G::kRetrieval, "recall@1", {128, 2e-5, 30, 101, 20, "val"},
       "coco", "COCO", "COCO", 3, "", "", false},
      {"retrieval_flickr30k", "RetrievalFlickr30k", 8, "VL-logit", G::kRetrieval, "recall@1", {128, 2e-5, 30, 101, 20,
       "val"}, "flickr30k", "Flickr30k", "Flickr30K", 4, "", "", false},
      {"refcoco", "refcoco", 9, "V-logit", G::kReferring, "accuracy", {256, 2e-5, 20, 101, 20, "val"}, "coco",
       "RefCOCO", "RefCOCO", 5, "", "", false},
      {"refcoco+", "refcoco+", 10, "V-logit", G::kReferring, "accuracy", {256, 2e-5, 20, 101, 20, "val"}, "coco",
       "RefCOCO+", "RefCOCO+", 6, "", "", false},
      {"refcocog", "refcocog", 11, "V-logit", G::kReferring, "accuracy", {256, 2e-5, 20, 101, 20, "val"}, "coco",
       "RefCOCOg", "RefCOCOg", 7, "", "", false},
      {"visual7w", "Visual7w", 4, "V-logit-mc", G::kReferring, "accuracy", {256, 2e-5, 20, 200, 20, "val"}, "vg",
       "V7W", "Visual 7W", 8, "", "", false},
      {"guesswhat", "GuessWhatPointing", 17, "V-logit-mc", G::kReferring, "accuracy", {64, 2e-5, 256, 306, 20,
       "valid"}, "coco", "GW", "GuessWhat", 9, "", "", false},
      {"nlvr2", "NLVR2", 12, "VL-binary-classifier", G::kVerification, "accuracy", {64, 2e-5, 40, 101, 20, "dev"},
       "nlvr2", "NLVR2", "NLVR2", 11, "nlvr2", "", false},
      {"snli_ve", "VisualEntailment", 13, "VL-tri-classifier", G::kVerification, "accuracy", {256, 2e-5, 56, 101, 20, "dev"},
       "flickr30k", "SNLI-VE", "SNLI-VE", 10, "", "", false},
  };
}

// Table 2's evaluation splits and the released test splits (supplement Sec. 8; the released
// refer tool reads RefCOCO's "test" as testA ∪ testB; NLVR2's test-P is the "test" file).
std::vector<TaskSpec> with_protocols(std::vector<TaskSpec> tasks) {
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
std::vector<TaskSpec> with_table11_columns(std::vector<TaskSpec> tasks) {
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

}  // namespace

std::vector<TaskSpec> builtin_datasets() { return with_table11_columns(with_protocols(released_tasks())); }

TaskSpec pretraining_spec() {
  // Pretraining's lengths are train_concap.py's defaults: 36 tokens, 36 detected regions + IMG
  // (concept_cap_dataset.py's region_len); batch, LR and epochs come from train.* (the stage has
  // one stream).
  return {"pretrain", "ConceptualCaptions", 0, "pretraining", TaskGroup::kPretraining, "alignment_accuracy",
          {0, 0, 36, 37, 0, "val"}, "cc", "CC", "Conceptual Captions", -1, "", "", false};
}

}  // namespace vlmt

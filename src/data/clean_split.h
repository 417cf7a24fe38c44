#pragma once
// The clean multi-task split (paper section 2.2, supplement 8.1): the union of every dataset's
// test images is removed from every dataset's train and val sets. Also computes the paper's
// Table 1 (how many of a dataset's test images each other dataset trains on) and Table 7 (image
// counts before and after cleaning).
#include <set>
#include <string>
#include <vector>

namespace vlmt {

struct CleanSplitDataset {
  std::string key;    // task key, e.g. "refcoco+"
  std::string label;  // row/column label of the paper's tables, e.g. "[G] RefCOCO+"
  bool present = false;
  std::vector<std::string> notes;        // skipped files
  std::set<std::string> trainval, test;  // image ids
  std::size_t cleaned = 0;               // trainval images left after cleaning
  double removed_percent() const;
};

struct CleanSplitReport {
  std::vector<CleanSplitDataset> datasets;  // in the paper's [A]..[L] order
  std::set<std::string> removed;            // union of all test image ids
  // Percentage of dataset r's test images present in dataset c's train/val (Table 1); < 0 when
  // r has no test images or either dataset is absent.
  double overlap_percent(std::size_t r, std::size_t c) const;
};

// The image ids of every item of one annotation file (`image_id`, or `image_ids` for NLVR2).
// Throws DataError naming the file and line for a malformed line or a missing id field.
std::vector<std::string> read_annotation_image_ids(const std::string& path);

// Reads <root>/annotations/<task>/{train,<val split>,test,test-dev}.jsonl for the 12 tasks.
// A missing task directory or file is skipped with a note.
CleanSplitReport compute_clean_split(const std::string& root);

// {"removed_image_ids": [...], "per_dataset": {key: {label, trainval_images, test_images,
// clean_trainval_images, removed_percent, notes}}}
std::string clean_split_json(const CleanSplitReport& report);
// Markdown with Table 1 and Table 7.
std::string clean_split_markdown(const CleanSplitReport& report);

}  // namespace vlmt

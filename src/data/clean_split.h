#pragma once
// The clean multi-task split (paper section 2.2, supplement 8.1): the union of every dataset's
// test images is removed from the other datasets' training data (the released code cleans the
// train splits only; data.clean_val_split = true also cleans val, the paper's text). Also
// computes the paper's Table 1 (how many of a dataset's test images each other dataset trains
// on) and Table 7 (image counts before and after cleaning).
//
// Image ids of different collections never collide: every id is qualified by its namespace
// ("coco:123", "flickr30k:456", "nlvr2:...", "vg:2345"; the gqa source uses Visual Genome ids),
// and a Visual Genome image that is a COCO image (VG's image_data.json `coco_id`) is that COCO
// image, so a COCO test image is found inside the VG-based tasks.
#include <map>
#include <set>
#include <string>
#include <vector>

namespace vlmt {

// Visual Genome image id → COCO image id.
using VgCocoIds = std::map<std::string, std::string>;
// Reads Visual Genome's image_data.json ([{"image_id": .., "coco_id": .. or null}, ...]).
VgCocoIds read_vg_coco_ids(const std::string& path);
// The qualified id of image `id` of an id namespace (TaskSpec::id_namespace(): "coco", "vg",
// "flickr30k", ...): "<namespace>:<id>", a VG image with a COCO id being "coco:<coco id>".
std::string qualified_image_id(const std::string& id_namespace, const std::string& id, const VgCocoIds& vg_coco);

struct CleanSplitDataset {
  std::string key;    // task key, e.g. "refcoco+"
  std::string source; // its image source (features/<source>.h5)
  std::string id_namespace;
  std::string label;  // row/column label of the paper's tables, e.g. "[G] RefCOCO+"
  bool present = false;
  std::vector<std::string> notes;        // skipped files
  std::set<std::string> trainval, test;  // qualified image ids
  std::size_t cleaned = 0;               // trainval images left after cleaning
  double removed_percent() const;
};

struct CleanSplitReport {
  std::vector<CleanSplitDataset> datasets;  // in the paper's [A]..[L] order
  std::set<std::string> removed;            // union of all test images (qualified ids)
  // Per image source, the source's own ids of the removed images it has (what its datasets
  // drop; splits/clean_split.json "removed_image_ids").
  std::map<std::string, std::set<std::string>> removed_by_source;
  // Percentage of dataset r's test images present in dataset c's train/val (Table 1); < 0 when
  // r has no test images or either dataset is absent.
  double overlap_percent(std::size_t r, std::size_t c) const;
};

// The image ids of every item of one annotation file (`image_id`, or `image_ids` for NLVR2).
// Throws DataError naming the file and line for a malformed line or a missing id field.
std::vector<std::string> read_annotation_image_ids(const std::string& path);

// Reads <root>/annotations/<task>/{train,<val split>,test,test-dev}.jsonl for the 12 tasks.
// A missing task directory or file is skipped with a note.
CleanSplitReport compute_clean_split(const std::string& root, const VgCocoIds& vg_coco = {});

// {"removed_image_ids": {source: [...]}, "per_dataset": {key: {label, trainval_images, test_images,
// clean_trainval_images, removed_percent, notes}}}
std::string clean_split_json(const CleanSplitReport& report);
// Markdown with Table 1 and Table 7.
std::string clean_split_markdown(const CleanSplitReport& report);

}  // namespace vlmt

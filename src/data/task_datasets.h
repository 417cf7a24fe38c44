#pragma once
// The concrete datasets, one class per annotation schema; the task kinds (src/tasks/kind_*.cpp)
// make them. The rest of vlmt uses data/task_dataset.h.
#include <unordered_map>
#include <unordered_set>

#include "core/log.h"
#include "data/annotations.h"
#include "data/task_dataset.h"

namespace vlmt {

template <class Record, class ImagesOf>
std::vector<Record> TaskDataset::apply_clean_split(std::vector<Record> records, ImagesOf images_of) const {
  if (!ctx_.removed_images || ctx_.removed_images->empty()) return records;
  std::unordered_set<std::string> removed(ctx_.removed_images->begin(), ctx_.removed_images->end());
  const size_t before = records.size();
  std::vector<Record> kept;
  kept.reserve(before);
  for (auto& r : records) {
    bool drop = false;
    for (const std::string& id : images_of(r)) drop = drop || removed.count(id) != 0;
    if (!drop) kept.push_back(std::move(r));
  }
  log::info0(cat("clean split: ", ctx_.task_key, "/", ctx_.split,
                 " drops ", before - kept.size(), " of ", before, " items"));
  return kept;
}

class VqaDataset : public TaskDataset {  // VL-classifier(-GQA)
 public:
  VqaDataset(DatasetContext ctx, const std::string& answers_path, int num_answers);
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  std::string item_id(int64_t i) const override { return records_.at(i).question_id; }
  std::vector<std::string> item_images(int64_t i) const override { return {records_.at(i).image_id}; }
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override;
  // The answer vocabulary its labels index (row order).
  const std::vector<std::string>& answers() const { return answers_; }

 private:
  std::vector<VqaRecord> records_;
  std::vector<std::string> answers_;
  int num_answers_;
};

class RetrievalDataset : public TaskDataset, public RetrievalScoring {  // VL-logit
 public:
  explicit RetrievalDataset(DatasetContext ctx);
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  std::string item_id(int64_t i) const override { return records_.at(i).caption_id; }
  std::vector<std::string> item_images(int64_t i) const override;
  // 4 rows per item, as retreival_dataset.py builds them (target = 0):
  //   (image, caption); (image, a caption of a random other image); (a random other image,
  //   caption); (image, a caption of an image from the image's hard-negative pool) — in
  //   splits without a pool file (validation) the 4th is a caption of a random other image.
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override;
  Batch caption_rows(const std::vector<int64_t>& caption_indices) const override;
  Batch image_rows(const std::vector<std::string>& image_ids) const override;
  const std::vector<std::string>& split_images() const override { return images_; }

  static constexpr int kOptions = 4;

 private:
  // retreival_dataset.py's draws: an image of the split other than `image_id` (drawn again
  // until it differs), a caption of `image_id`.
  const std::string& random_other_image(const std::string& image_id, Draws& draws) const;
  const RetrievalRecord& random_caption_of(const std::string& image_id, Draws& draws) const;
  std::vector<RetrievalRecord> records_;
  std::vector<std::string> images_;
  std::unordered_map<std::string, std::vector<int64_t>> captions_of_;  // image → record indices
  std::unordered_map<std::string, std::vector<std::string>> hard_pool_;  // image → pool images with captions here
};

class ReferringDataset : public TaskDataset {  // V-logit
 public:
  // `append_gt`: the image's ground-truth boxes (ctx.gt_features) follow the detections, as
  // many as fit in max_regions (refer_expression_dataset.py, training split).
  ReferringDataset(DatasetContext ctx, bool append_gt);
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  std::string item_id(int64_t i) const override { return records_.at(i).ref_id; }
  std::vector<std::string> item_images(int64_t i) const override { return {records_.at(i).image_id}; }
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override;

 private:
  std::vector<ReferringRecord> records_;
  bool append_gt_;
};

class PointingDataset : public TaskDataset {  // V-logit-mc
 public:
  explicit PointingDataset(DatasetContext ctx);
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  std::string item_id(int64_t i) const override { return records_.at(i).id; }
  std::vector<std::string> item_images(int64_t i) const override { return {records_.at(i).image_id}; }
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override;
  // The row of the image's ground-truth boxes `gt` that holds each candidate of `r` (DataError
  // naming the file, image, item and box when a candidate has none).
  std::vector<int64_t> candidate_rows(const PointingRecord& r, const ImageRegions& gt) const;

 private:
  std::vector<PointingRecord> records_;
};

class Nlvr2Dataset : public TaskDataset {  // VL-binary-classifier
 public:
  explicit Nlvr2Dataset(DatasetContext ctx);
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  std::string item_id(int64_t i) const override { return records_.at(i).pair_id; }
  std::vector<std::string> item_images(int64_t i) const override;
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override;

 private:
  std::vector<Nlvr2Record> records_;
};

class SnliVeDataset : public TaskDataset {  // VL-tri-classifier
 public:
  explicit SnliVeDataset(DatasetContext ctx);
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  std::string item_id(int64_t i) const override { return records_.at(i).pair_id; }
  std::vector<std::string> item_images(int64_t i) const override { return {records_.at(i).image_id}; }
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override;

 private:
  std::vector<SnliVeRecord> records_;
};

// How pretraining corrupts its inputs (train.mask_prob, train.region_mask_iou,
// train.region_masking; docs/TRAINING.md "Fidelity to the released code").
struct PretrainMasking {
  double prob = 0.15;         // share of words and of detected regions chosen
  double overlap_iou = 0.4;   // regions overlapping a chosen one above this IoU
  // false (released, concept_cap_dataset.py): 90% of chosen regions are zeroed, all chosen are
  // trained, overlapping regions only leave the IMG mean's count. true (the paper's text):
  // chosen and overlapping regions are all zeroed and trained.
  bool paper_overlap = false;
};

class PretrainDataset : public TaskDataset {  // the pretraining kind
 public:
  PretrainDataset(DatasetContext ctx, PretrainMasking masking);
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  std::string item_id(int64_t i) const override { return records_.at(i).image_id + "#" + std::to_string(i); }
  std::vector<std::string> item_images(int64_t i) const override { return {records_.at(i).image_id}; }
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override;

 private:
  // Chooses and corrupts regions of one item (IMG recomputed after masking); marks the ones to
  // reconstruct in `trained` [R].
  void mask_regions(RegionInput& in, torch::Tensor trained, Draws& draws) const;
  std::vector<CaptionRecord> records_;
  PretrainMasking masking_;
};

}  // namespace vlmt

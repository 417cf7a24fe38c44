// Referring expressions: score every region; target = IoU with the referred box
// (refer_expression_dataset.py; the released +1-pixel IoU, data/feature_store.h box_iou).
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

ReferringDataset::ReferringDataset(DatasetContext ctx, bool append_gt)
    : TaskDataset(std::move(ctx)), append_gt_(append_gt) {
  records_ = apply_clean_split(read_referring_jsonl(ctx_.annotation_path), [](const ReferringRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  std::vector<std::string> ids;
  for (const auto& r : records_) ids.push_back(r.image_id);
  require_images(*ctx_.features, ids);
  if (append_gt_) {
    if (!ctx_.gt_features)
      throw DataError(cat(ctx_.annotation_path, ": ground-truth box features are needed (features/<source>_gt.h5; "
                          "train.referring_gt_regions = false trains on detections only)"));
    require_images(*ctx_.gt_features, ids);
  }
}

Batch ReferringDataset::get_batch(const std::vector<int64_t>& indices, Draws&) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b = start_batch(n, 1);
  b.target = torch::zeros({n, ctx_.max_regions});
  for (int64_t k = 0; k < n; ++k) {
    const ReferringRecord& r = records_.at(indices[k]);
    const ImageRegions detected = ctx_.features->get(r.image_id);
    RegionInput in = make_region_input(detected, ctx_.max_regions);
    if (append_gt_) append_regions_to_capacity(in, ctx_.gt_features->get(r.image_id));
    set_text(b, k, ctx_.vocab->encode_framed(r.expression, ctx_.max_text));
    set_regions(b, k, in);
    // Every real slot gets its IoU, the IMG slot (box = the whole image) included. Training
    // zeroes IoUs below 0.5; evaluation keeps them (only the > 0.5 rule of the metric counts).
    auto gt = torch::tensor({r.box[0], r.box[1], r.box[2], r.box[3]});
    auto iou = box_iou(in.boxes.narrow(0, 0, in.count), gt);
    if (split() == "train") iou.masked_fill_(iou < kTargetMinIoU, 0.f);
    b.target[k].narrow(0, 0, in.count).copy_(iou);
    b.item_ids.push_back(r.ref_id);
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

}  // namespace vlmt

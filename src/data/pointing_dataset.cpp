// Visual7W pointing and GuessWhat (visual7w_pointing_dataset.py, guesswhat_pointing_dataset.py):
// every ground-truth box of the image — the rows of the ground-truth feature file: Visual7W's
// boxes of all the image's QA pairs, GuessWhat's objects — follows the detected regions; the
// item's candidates are found among those rows (choice_ids), and each candidate's target is its
// IoU with the answer box (data/feature_store.h box_iou), 0 below 0.5: a distractor overlapping
// the answer by at least 0.5 is a soft positive.
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

namespace {
constexpr float kBoxTolerance = 0.5f;  // pixels; converters may round box coordinates
}

PointingDataset::PointingDataset(DatasetContext ctx) : TaskDataset(std::move(ctx)) {
  records_ = apply_clean_split(read_pointing_jsonl(ctx_.annotation_path), [](const PointingRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  std::vector<std::string> ids;
  for (const auto& r : records_) ids.push_back(r.image_id);
  require_images(*ctx_.features, ids);
  require_images(*ctx_.gt_features, ids);
  for (const auto& r : records_) {
    const int64_t boxes = ctx_.gt_features->num_regions(r.image_id);
    if (boxes + 1 >= ctx_.max_regions)
      throw DataError(cat(ctx_.gt_features->path(), ": image ", r.image_id, " has ", boxes,
                          " ground-truth boxes, too many for max_regions = ", ctx_.max_regions, " (item ", r.id,
                          " in ", ctx_.annotation_path, ")"));
  }
}

std::vector<int64_t> PointingDataset::candidate_rows(const PointingRecord& r, const ImageRegions& gt) const {
  const int64_t c = static_cast<int64_t>(r.candidates.size());
  auto wanted = torch::empty({c, 4});
  for (int64_t j = 0; j < c; ++j)
    for (int q = 0; q < 4; ++q) wanted[j][q] = r.candidates[j][q];
  // Max coordinate difference of every candidate to every gt row: [c, rows].
  auto diff = (wanted.unsqueeze(1) - gt.boxes.unsqueeze(0)).abs().amax(2);
  std::vector<int64_t> rows(c);
  for (int64_t j = 0; j < c; ++j) {
    if (gt.num_regions() == 0 || diff[j].min().item<float>() > kBoxTolerance)
      throw DataError(cat(ctx_.gt_features->path(), ": image ", r.image_id, " has no ground-truth box [",
                          r.candidates[j][0], ", ", r.candidates[j][1], ", ", r.candidates[j][2], ", ",
                          r.candidates[j][3], "] (candidate ", j, " of item ", r.id, " in ",
                          ctx_.annotation_path, ")"));
    rows[j] = diff[j].argmin().item<int64_t>();
  }
  return rows;
}

Batch PointingDataset::get_batch(const std::vector<int64_t>& indices, Draws&) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  int64_t max_c = 1;
  for (int64_t i : indices) max_c = std::max<int64_t>(max_c, records_.at(i).candidates.size());
  Batch b = start_batch(n, 1);
  b.target = torch::zeros({n, max_c});
  b.choice_ids = torch::full({n, max_c}, -1, torch::kInt64);  // -1 = no candidate in this slot
  for (int64_t k = 0; k < n; ++k) {
    const PointingRecord& r = records_.at(indices[k]);
    const ImageRegions gt = ctx_.gt_features->get(r.image_id);
    const std::vector<int64_t> rows = candidate_rows(r, gt);
    const RegionInput in = make_region_input(ctx_.features->get(r.image_id), ctx_.max_regions, &gt);
    set_text(b, k, ctx_.vocab->encode_framed(r.text, ctx_.max_text));
    set_regions(b, k, in);
    const int64_t c = static_cast<int64_t>(rows.size());
    const auto row_index = torch::tensor(rows, torch::kInt64);
    b.choice_ids[k].narrow(0, 0, c).copy_(row_index + in.appended_at);
    if (r.answer >= 0) {
      const Box& a = r.candidates.at(r.answer);
      auto iou = box_iou(gt.boxes.index_select(0, row_index), torch::tensor({a[0], a[1], a[2], a[3]}));
      b.target[k].narrow(0, 0, c).copy_(iou.masked_fill(iou < kTargetMinIoU, 0.f));
    }
    b.item_ids.push_back(r.id);
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

}  // namespace vlmt

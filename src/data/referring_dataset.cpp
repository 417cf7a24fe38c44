// Referring expressions: score every detected region; target = IoU with the ground-truth box.
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

namespace {
constexpr float kMinIoU = 0.5f;  // regions below this IoU are not a correct answer
}

ReferringDataset::ReferringDataset(DatasetContext ctx) : TaskDataset(std::move(ctx)) {
  records_ = apply_clean_split(read_referring_jsonl(ctx_.annotation_path), [](const ReferringRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  std::vector<std::string> ids;
  for (const auto& r : records_) ids.push_back(r.image_id);
  require_images(*ctx_.features, ids);
}

Batch ReferringDataset::get_batch(const std::vector<int64_t>& indices, std::mt19937_64&) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b = start_batch(n, 1);
  b.target = torch::zeros({n, ctx_.max_regions});
  for (int64_t k = 0; k < n; ++k) {
    const ReferringRecord& r = records_.at(indices[k]);
    const RegionInput in = make_region_input(ctx_.features->get(r.image_id), ctx_.max_regions);
    set_text(b, k, ctx_.vocab->encode_framed(r.expression, ctx_.max_text));
    set_regions(b, k, in);
    if (in.count > 1) {
      auto gt = torch::tensor({r.box[0], r.box[1], r.box[2], r.box[3]});
      auto iou = box_iou(in.boxes.narrow(0, 1, in.count - 1), gt);  // IMG (slot 0) stays 0
      iou.masked_fill_(iou < kMinIoU, 0.f);
      b.target[k].narrow(0, 1, in.count - 1).copy_(iou);
    }
    b.item_ids.push_back(r.ref_id);
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

}  // namespace vlmt

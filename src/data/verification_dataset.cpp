// NLVR2 (two images per statement, consecutive rows) and SNLI-VE (image premise, hypothesis).
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

Nlvr2Dataset::Nlvr2Dataset(DatasetContext ctx) : TaskDataset(std::move(ctx)) {
  records_ = apply_clean_split(read_nlvr2_jsonl(ctx_.annotation_path), [](const Nlvr2Record& r) {
    return std::vector<std::string>{r.image_ids[0], r.image_ids[1]};
  });
  std::vector<std::string> ids;
  for (const auto& r : records_) ids.insert(ids.end(), r.image_ids.begin(), r.image_ids.end());
  require_images(*ctx_.features, ids);
}

std::vector<std::string> Nlvr2Dataset::item_images(int64_t i) const {
  const auto& r = records_.at(i);
  return {r.image_ids[0], r.image_ids[1]};
}

Batch Nlvr2Dataset::get_batch(const std::vector<int64_t>& indices, Draws&) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b = start_batch(n, 2);
  b.target = torch::zeros({n, 2});
  for (int64_t k = 0; k < n; ++k) {
    const Nlvr2Record& r = records_.at(indices[k]);
    const EncodedText text = ctx_.vocab->encode_framed(r.sentence, ctx_.max_text);
    for (int side = 0; side < 2; ++side) {
      set_text(b, 2 * k + side, text);
      set_regions(b, 2 * k + side, make_region_input(ctx_.features->get(r.image_ids[side]), ctx_.max_regions));
      b.image_ids.push_back(r.image_ids[side]);
    }
    if (r.label >= 0) b.target[k][r.label] = 1.f;
    b.item_ids.push_back(r.pair_id);
  }
  return b;
}

SnliVeDataset::SnliVeDataset(DatasetContext ctx) : TaskDataset(std::move(ctx)) {
  records_ = apply_clean_split(read_snli_ve_jsonl(ctx_.annotation_path), [](const SnliVeRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  std::vector<std::string> ids;
  for (const auto& r : records_) ids.push_back(r.image_id);
  require_images(*ctx_.features, ids);
}

Batch SnliVeDataset::get_batch(const std::vector<int64_t>& indices, Draws&) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b = start_batch(n, 1);
  b.target = torch::zeros({n, 3});
  for (int64_t k = 0; k < n; ++k) {
    const SnliVeRecord& r = records_.at(indices[k]);
    set_text(b, k, ctx_.vocab->encode_framed(r.hypothesis, ctx_.max_text));
    set_regions(b, k, make_region_input(ctx_.features->get(r.image_id), ctx_.max_regions));
    if (r.label >= 0) b.target[k][r.label] = 1.f;
    b.item_ids.push_back(r.pair_id);
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

}  // namespace vlmt

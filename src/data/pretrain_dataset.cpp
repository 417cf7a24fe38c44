// Pretraining batches: masked language modelling, masked region modelling (target = detector
// class distribution) and image–caption alignment, as in ViLBERT's pretraining.
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

namespace {
constexpr double kMisalignedProb = 0.5;
constexpr double kMaskTokenShare = 0.8;    // of masked words: [MASK]
constexpr double kRandomTokenShare = 0.1;  // of masked words: a random token (rest: unchanged)
}  // namespace

PretrainDataset::PretrainDataset(DatasetContext ctx, double mask_prob, double region_mask_iou)
    : TaskDataset(std::move(ctx)), mask_prob_(mask_prob), region_mask_iou_(region_mask_iou) {
  records_ = apply_clean_split(read_caption_jsonl(ctx_.annotation_path), [](const CaptionRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  std::vector<std::string> ids;
  for (const auto& r : records_) ids.push_back(r.image_id);
  require_images(*ctx_.features, ids);
}

Batch PretrainDataset::get_batch(const std::vector<int64_t>& indices, std::mt19937_64& rng) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t L = ctx_.max_text, R = ctx_.max_regions, C = ctx_.features->cls_dim();
  Batch b = start_batch(n, 1);
  b.lm_labels = torch::full({n, L}, -1, torch::kInt64);
  b.region_targets = torch::zeros({n, R, C});
  b.region_masked = torch::zeros({n, R}, torch::kInt64);
  b.is_aligned = torch::ones({n}, torch::kInt64);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::uniform_int_distribution<int64_t> any_token(0, ctx_.vocab->size() - 1);
  std::uniform_int_distribution<int64_t> any_record(0, size() - 1);
  for (int64_t k = 0; k < n; ++k) {
    const CaptionRecord& r = records_.at(indices[k]);
    // Alignment: half of the captions are replaced by one of another image.
    const CaptionRecord* caption = &r;
    if (uniform(rng) < kMisalignedProb) {
      for (int attempt = 0; attempt < 16; ++attempt) {
        const CaptionRecord& other = records_[any_record(rng)];
        if (other.image_id != r.image_id) {
          caption = &other;
          break;
        }
      }
    }
    const bool aligned = caption == &r;
    b.is_aligned[k] = aligned ? 1 : 0;

    EncodedText text = ctx_.vocab->encode_framed(caption->caption, static_cast<int>(L));
    const ImageRegions image = ctx_.features->get(r.image_id);
    RegionInput in = make_region_input(image, static_cast<int>(R));
    // Detector class distribution of each kept region (IMG and padding stay 0).
    if (in.count > 1) b.region_targets[k].narrow(0, 1, in.count - 1).copy_(image.cls_prob.narrow(0, 0, in.count - 1));

    // No masked-modelling labels on misaligned pairs: the caption does not describe the image.
    if (aligned) {
      int64_t* labels = b.lm_labels.data_ptr<int64_t>() + k * L;
      for (int64_t pos = 1; pos + 1 < text.length; ++pos) {  // never [CLS] / [SEP]
        if (uniform(rng) >= mask_prob_) continue;
        labels[pos] = text.ids[pos];
        const double how = uniform(rng);
        if (how < kMaskTokenShare) text.ids[pos] = ctx_.vocab->mask_id();
        else if (how < kMaskTokenShare + kRandomTokenShare) text.ids[pos] = any_token(rng);
      }
      const int64_t regions = in.count - 1;  // detected regions, slots 1..count-1 (IMG never)
      if (regions > 0) {
        std::vector<char> masked(regions, 0);
        bool any = false;
        for (int64_t j = 0; j < regions; ++j) any |= (masked[j] = uniform(rng) < mask_prob_) != 0;
        if (any) {
          // A region overlapping a masked one would leak its content: mask it too.
          auto boxes = in.boxes.narrow(0, 1, regions);
          auto chosen = torch::from_blob(masked.data(), {regions}, torch::kChar).to(torch::kBool);
          auto overlap = (box_iou_matrix(boxes, boxes) > region_mask_iou_).logical_and(chosen.unsqueeze(0));
          auto final_mask = overlap.any(1).logical_or(chosen);
          b.region_masked[k].narrow(0, 1, regions).copy_(final_mask.to(torch::kInt64));
          in.features.narrow(0, 1, regions).masked_fill_(final_mask.unsqueeze(1), 0.f);
        }
      }
    }
    set_text(b, k, text);
    set_regions(b, k, in);
    b.item_ids.push_back(item_id(indices[k]));
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

}  // namespace vlmt

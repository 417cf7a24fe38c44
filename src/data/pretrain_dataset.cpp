// Pretraining batches: masked language modelling, masked region modelling (target = detector
// class distribution) and image–caption alignment, as in ViLBERT's pretraining.
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

namespace {
constexpr double kKeepCaptionProb = 0.5;   // a draw above it swaps the caption
constexpr double kMaskTokenShare = 0.8;    // of masked words: [MASK]
constexpr double kRandomTokenShare = 0.1;  // of masked words: a random token (rest: unchanged)
constexpr double kZeroedRegionShare = 0.9; // of chosen regions (released): features zeroed
}  // namespace

PretrainDataset::PretrainDataset(DatasetContext ctx, PretrainMasking masking)
    : TaskDataset(std::move(ctx)), masking_(masking) {
  records_ = apply_clean_split(read_caption_jsonl(ctx_.annotation_path), [](const CaptionRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  std::vector<std::string> ids;
  for (const auto& r : records_) ids.push_back(r.image_id);
  require_images(*ctx_.features, ids);
}

// Inputs are corrupted whether or not the caption belongs to the image (concept_cap_dataset.py
// masks before it knows); the masked-modelling labels are then kept on aligned pairs only
// (train_concap.py --objective 1, the command the released model was pretrained with, and the
// paper's section 3.1).
//
// Draws per item in concept_cap_dataset.py's order: the caption swap (a draw above 0.5 takes the
// caption of any record, as get_random_caption does: it may be the item's own, which is then
// still labelled misaligned), then one draw per word of the caption (below mask_prob: chosen;
// the same draw over mask_prob then picks [MASK] below 0.8, a random token below 0.9 with one
// more draw over the vocabulary, else the word stays), then the regions (mask_regions).
Batch PretrainDataset::get_batch(const std::vector<int64_t>& indices, Draws& draws) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t L = ctx_.max_text, R = ctx_.max_regions, C = ctx_.features->cls_dim();
  Batch b = start_batch(n, 1);
  b.lm_labels = torch::full({n, L}, -1, torch::kInt64);
  b.region_targets = torch::zeros({n, R, C});
  b.region_masked = torch::zeros({n, R}, torch::kInt64);
  b.is_aligned = torch::ones({n}, torch::kInt64);
  for (int64_t k = 0; k < n; ++k) {
    const CaptionRecord& r = records_.at(indices[k]);
    const bool aligned = draws.uniform() <= kKeepCaptionProb;
    const CaptionRecord& caption = aligned ? r : records_[draws.index(size())];
    b.is_aligned[k] = aligned ? 1 : 0;

    EncodedText text = ctx_.vocab->encode_framed(caption.caption, static_cast<int>(L));
    const ImageRegions image = ctx_.features->get(r.image_id, /*with_cls_prob=*/true);
    RegionInput in = make_region_input(image, static_cast<int>(R));
    // Detector class distribution of each kept region (IMG and padding stay 0).
    if (in.count > 1) b.region_targets[k].narrow(0, 1, in.count - 1).copy_(image.cls_prob.narrow(0, 0, in.count - 1));

    int64_t* labels = b.lm_labels.data_ptr<int64_t>() + k * L;
    for (int64_t pos = 1; pos + 1 < text.length; ++pos) {  // never [CLS] / [SEP]
      const double u = draws.uniform();
      if (u >= masking_.prob) continue;
      labels[pos] = text.ids[pos];
      const double how = u / masking_.prob;
      if (how < kMaskTokenShare) text.ids[pos] = ctx_.vocab->mask_id();
      else if (how < kMaskTokenShare + kRandomTokenShare) text.ids[pos] = draws.index(ctx_.vocab->size());
    }
    mask_regions(in, b.region_masked[k], draws);
    if (!aligned) {  // inputs stay corrupted; nothing to reconstruct from a foreign caption
      b.lm_labels[k].fill_(-1);
      b.region_masked[k].zero_();
    }
    set_text(b, k, text);
    set_regions(b, k, in);
    b.item_ids.push_back(item_id(indices[k]));
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

// One draw per detected region: below mask_prob it is chosen, and the same draw over mask_prob
// zeroes its features below 0.9 (concept_cap_dataset.py random_region).
void PretrainDataset::mask_regions(RegionInput& in, torch::Tensor trained, Draws& draws) const {
  const int64_t regions = in.count - 1;  // detected regions, slots 1..count-1 (IMG never)
  auto detected = in.features.narrow(0, 1, regions);
  std::vector<char> chosen(static_cast<size_t>(regions), 0), zeroed(chosen);
  bool any = false;
  for (int64_t j = 0; j < regions; ++j) {
    const double u = draws.uniform();
    if (u >= masking_.prob) continue;
    chosen[j] = 1;
    any = true;
    zeroed[j] = masking_.paper_overlap || u / masking_.prob < kZeroedRegionShare;
  }
  // Regions overlapping a chosen one (every chosen region overlaps itself).
  torch::Tensor overlapping = torch::zeros({regions}, torch::kBool);
  if (any) {
    auto boxes = in.boxes.narrow(0, 1, regions);
    auto chosen_t = torch::from_blob(chosen.data(), {regions}, torch::kChar).to(torch::kBool);
    overlapping = (box_iou_matrix(boxes, boxes) > masking_.overlap_iou).logical_and(chosen_t.unsqueeze(0)).any(1)
                      .logical_or(chosen_t);
  }
  torch::Tensor zero, train;
  if (masking_.paper_overlap) {
    zero = train = overlapping;
  } else {
    zero = torch::from_blob(zeroed.data(), {regions}, torch::kChar).to(torch::kBool);  // .to copies
    train = torch::from_blob(chosen.data(), {regions}, torch::kChar).to(torch::kBool);
  }
  if (any) {
    detected.masked_fill_(zero.unsqueeze(1), 0.f);
    trained.narrow(0, 1, regions).copy_(train.to(torch::kInt64));
  }
  // The IMG region is the sum of the detected features after masking, over the number of
  // region slots (R − 1, padding included) less the overlapping ones: the released loader's
  // rule (sum over its 36 slots / count of slots not overlap-masked), so no masked content leaks.
  const double slots = static_cast<double>(in.features.size(0) - 1) - overlapping.sum().item<double>();
  in.features[0] = detected.sum(0) / std::max(1.0, slots);
}

}  // namespace vlmt

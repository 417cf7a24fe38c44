// Caption-based image retrieval: 4-way multiple choice in training, caption × image list in
// evaluation.
#include <unordered_set>

#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

RetrievalDataset::RetrievalDataset(DatasetContext ctx) : TaskDataset(std::move(ctx)) {
  records_ = apply_clean_split(read_retrieval_jsonl(ctx_.annotation_path), [](const RetrievalRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  std::unordered_set<std::string> seen;
  std::vector<std::string> all;
  for (const auto& r : records_) {
    if (seen.insert(r.image_id).second) images_.push_back(r.image_id);
    all.push_back(r.image_id);
    all.insert(all.end(), r.hard_negatives.begin(), r.hard_negatives.end());
  }
  require_images(*ctx_.features, all);
}

std::vector<std::string> RetrievalDataset::item_images(int64_t i) const {
  const auto& r = records_.at(i);
  std::vector<std::string> out{r.image_id};
  out.insert(out.end(), r.hard_negatives.begin(), r.hard_negatives.end());
  return out;
}

Batch RetrievalDataset::get_batch(const std::vector<int64_t>& indices, std::mt19937_64& rng) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b = start_batch(n, kOptions);
  b.target = torch::zeros({n}, torch::kInt64);
  for (int64_t k = 0; k < n; ++k) {
    const RetrievalRecord& r = records_.at(indices[k]);
    // Negatives: the record's hard negatives first, then distinct random other images.
    std::vector<std::string> negatives;
    for (const auto& id : r.hard_negatives)
      if (id != r.image_id && negatives.size() < kOptions - 1 &&
          std::find(negatives.begin(), negatives.end(), id) == negatives.end())
        negatives.push_back(id);
    const size_t distinct_others = images_.size() - 1;
    while (negatives.size() < kOptions - 1) {
      if (negatives.size() >= distinct_others)
        throw DataError(cat(ctx_.annotation_path, ": caption ", r.caption_id, " needs ", kOptions - 1,
                            " negative images but the split has only ", images_.size(), " images"));
      const std::string& id = images_[std::uniform_int_distribution<size_t>(0, images_.size() - 1)(rng)];
      if (id != r.image_id && std::find(negatives.begin(), negatives.end(), id) == negatives.end())
        negatives.push_back(id);
    }
    const int64_t positive = std::uniform_int_distribution<int64_t>(0, kOptions - 1)(rng);
    b.target[k] = positive;
    const EncodedText text = ctx_.vocab->encode_framed(r.caption, ctx_.max_text);
    for (int64_t option = 0, neg = 0; option < kOptions; ++option) {
      const std::string& image = option == positive ? r.image_id : negatives[neg++];
      const int64_t row = k * kOptions + option;
      set_text(b, row, text);
      set_regions(b, row, make_region_input(ctx_.features->get(image), ctx_.max_regions));
      b.image_ids.push_back(image);
    }
    b.item_ids.push_back(r.caption_id);
  }
  return b;
}

Batch RetrievalDataset::captions_vs_images(const std::vector<int64_t>& caption_indices,
                                           const std::vector<std::string>& image_ids) const {
  const int64_t n = static_cast<int64_t>(caption_indices.size());
  const int64_t m = static_cast<int64_t>(image_ids.size());
  Batch b = start_batch(n, static_cast<int>(m));
  b.target = torch::full({n}, -1, torch::kInt64);
  // The image side of the first caption's rows, then copied block-wise to the other captions.
  for (int64_t i = 0; i < m; ++i)
    set_regions(b, i, make_region_input(ctx_.features->get(image_ids[i]), ctx_.max_regions));
  for (int64_t k = 1; k < n; ++k) {
    b.features.narrow(0, k * m, m).copy_(b.features.narrow(0, 0, m));
    b.spatials.narrow(0, k * m, m).copy_(b.spatials.narrow(0, 0, m));
    b.image_mask.narrow(0, k * m, m).copy_(b.image_mask.narrow(0, 0, m));
  }
  for (int64_t k = 0; k < n; ++k) {
    const RetrievalRecord& r = records_.at(caption_indices[k]);
    const EncodedText text = ctx_.vocab->encode_framed(r.caption, ctx_.max_text);
    for (int64_t i = 0; i < m; ++i) {
      if (image_ids[i] == r.image_id) b.target[k] = i;
      set_text(b, k * m + i, text);
      b.image_ids.push_back(image_ids[i]);
    }
    b.item_ids.push_back(r.caption_id);
  }
  return b;
}

}  // namespace vlmt

// Caption-based image retrieval: 4-way multiple choice in training (retreival_dataset.py),
// caption × image list in evaluation.
#include <filesystem>
#include <tuple>
#include <unordered_set>

#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

namespace fs = std::filesystem;

RetrievalDataset::RetrievalDataset(DatasetContext ctx) : TaskDataset(std::move(ctx)) {
  records_ = apply_clean_split(read_retrieval_jsonl(ctx_.annotation_path), [](const RetrievalRecord& r) {
    return std::vector<std::string>{r.image_id};
  });
  for (int64_t i = 0; i < static_cast<int64_t>(records_.size()); ++i) {
    auto& captions = captions_of_[records_[i].image_id];
    if (captions.empty()) images_.push_back(records_[i].image_id);
    captions.push_back(i);
  }
  require_images(*ctx_.features, images_);
  const fs::path pool_path = fs::path(ctx_.annotation_path).parent_path() / (ctx_.split + kHardPoolSuffix);
  if (fs::exists(pool_path)) {
    // Pool images lend their captions, so only those with a caption in this split count.
    for (auto& r : read_hard_pool_jsonl(pool_path.string())) {
      std::vector<std::string> usable;
      for (auto& id : r.pool)
        if (id != r.image_id && captions_of_.count(id)) usable.push_back(std::move(id));
      if (!usable.empty()) hard_pool_[r.image_id] = std::move(usable);
    }
    log::info0(cat(pool_path.string(), ": hard-negative pools for ", hard_pool_.size(), " of ", images_.size(),
                   " images"));
  } else if (ctx_.split == "train") {
    log::warn0(cat("no ", pool_path.string(), ": the 4th option of every training item is a caption of a random "
                   "image instead of a hard negative (convert the released hard_negative.pkl with "
                   "tools/convert/retrieval.py --hard-pool)"));
  }
}

std::vector<std::string> RetrievalDataset::item_images(int64_t i) const { return {records_.at(i).image_id}; }

const std::string& RetrievalDataset::random_other_image(const std::string& image_id, Draws& draws) const {
  if (images_.size() < 2)
    throw DataError(cat(ctx_.annotation_path, ": retrieval needs at least 2 images, the split has ",
                        images_.size()));
  const int64_t n = static_cast<int64_t>(images_.size());
  for (;;)
    if (const std::string& id = images_[draws.index(n)]; id != image_id) return id;
}

const RetrievalRecord& RetrievalDataset::random_caption_of(const std::string& image_id, Draws& draws) const {
  const auto& captions = captions_of_.at(image_id);
  return records_[captions[draws.index(static_cast<int64_t>(captions.size()))]];
}

// The draws in retreival_dataset.py's order: option 2's image and its caption, option 3's image,
// option 4's pool image (or, without a pool, another image) and its caption.
Batch RetrievalDataset::get_batch(const std::vector<int64_t>& indices, Draws& draws) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  Batch b = start_batch(n, kOptions);
  b.target = torch::zeros({n}, torch::kInt64);  // the positive is option 0
  for (int64_t k = 0; k < n; ++k) {
    const RetrievalRecord& r = records_.at(indices[k]);
    const RetrievalRecord& wrong_caption = random_caption_of(random_other_image(r.image_id, draws), draws);
    const std::string& wrong_image = random_other_image(r.image_id, draws);
    const RetrievalRecord* hard_caption = nullptr;
    if (const auto pool = hard_pool_.find(r.image_id); pool != hard_pool_.end()) {
      const auto& ids = pool->second;
      hard_caption = &random_caption_of(ids[draws.index(static_cast<int64_t>(ids.size()))], draws);
    } else {
      hard_caption = &random_caption_of(random_other_image(r.image_id, draws), draws);
    }
    // The item's own image and caption serve three options each: read and encode them once.
    const RegionInput own_image = make_region_input(ctx_.features->get(r.image_id), ctx_.max_regions);
    const RegionInput other_image = make_region_input(ctx_.features->get(wrong_image), ctx_.max_regions);
    const EncodedText own_caption = ctx_.vocab->encode_framed(r.caption, ctx_.max_text);
    const std::tuple<const std::string*, const RegionInput*, EncodedText> options[kOptions] = {
        {&r.image_id, &own_image, own_caption},
        {&r.image_id, &own_image, ctx_.vocab->encode_framed(wrong_caption.caption, ctx_.max_text)},
        {&wrong_image, &other_image, own_caption},
        {&r.image_id, &own_image, ctx_.vocab->encode_framed(hard_caption->caption, ctx_.max_text)}};
    for (int64_t option = 0; option < kOptions; ++option) {
      const auto& [image_id, regions, text] = options[option];
      const int64_t row = k * kOptions + option;
      set_text(b, row, text);
      set_regions(b, row, *regions);
      b.image_ids.push_back(*image_id);
    }
    b.item_ids.push_back(r.caption_id);
  }
  return b;
}

Batch RetrievalDataset::caption_rows(const std::vector<int64_t>& caption_indices) const {
  const int64_t n = static_cast<int64_t>(caption_indices.size());
  Batch b = start_batch(n, 1);
  b.features = b.spatials = b.image_mask = torch::Tensor();
  for (int64_t k = 0; k < n; ++k) {
    const RetrievalRecord& r = records_.at(caption_indices[k]);
    set_text(b, k, ctx_.vocab->encode_framed(r.caption, ctx_.max_text));
    b.item_ids.push_back(r.caption_id);
    b.image_ids.push_back(r.image_id);
  }
  return b;
}

Batch RetrievalDataset::image_rows(const std::vector<std::string>& image_ids) const {
  const int64_t m = static_cast<int64_t>(image_ids.size());
  Batch b = start_batch(m, 1);
  b.input_ids = b.segment_ids = b.text_mask = torch::Tensor();
  for (int64_t i = 0; i < m; ++i) {
    set_regions(b, i, make_region_input(ctx_.features->get(image_ids[i]), ctx_.max_regions));
    b.image_ids.push_back(image_ids[i]);
  }
  return b;
}

}  // namespace vlmt

// TaskDataset helpers shared by every dataset, the data root and the common dataset context.
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <unordered_map>

#include "core/env.h"
#include "core/error.h"
#include "data/task_datasets.h"

namespace vlmt {

namespace fs = std::filesystem;

Batch TaskDataset::start_batch(int64_t size, int rows_per_item) const {
  Batch b;
  b.task = ctx_.task_key;
  b.task_id = ctx_.task_id;
  b.task_group = ctx_.task_group;
  b.size = size;
  b.rows_per_item = rows_per_item;
  const int64_t rows = size * rows_per_item, L = ctx_.max_text, R = ctx_.max_regions;
  const int64_t D = ctx_.features->feature_dim();
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  b.input_ids = torch::full({rows, L}, ctx_.vocab->pad_id(), i64);
  b.segment_ids = torch::zeros({rows, L}, i64);
  b.text_mask = torch::zeros({rows, L}, i64);
  // Every dataset writes the regions of every row (set_regions), so no zero-fill here: it
  // would be a needless pass over the largest tensor of the batch.
  b.features = torch::empty({rows, R, D});
  b.spatials = torch::empty({rows, R, 5});
  b.image_mask = torch::empty({rows, R}, i64);
  b.item_ids.reserve(size);
  b.image_ids.reserve(rows);
  return b;
}

void TaskDataset::set_text(Batch& b, int64_t row, const EncodedText& t) const {
  const int64_t L = ctx_.max_text;
  std::memcpy(b.input_ids.data_ptr<int64_t>() + row * L, t.ids.data(), L * sizeof(int64_t));
  std::memcpy(b.segment_ids.data_ptr<int64_t>() + row * L, t.segment_ids.data(), L * sizeof(int64_t));
  std::memcpy(b.text_mask.data_ptr<int64_t>() + row * L, t.mask.data(), L * sizeof(int64_t));
}

void TaskDataset::set_regions(Batch& b, int64_t row, const RegionInput& r) const {
  b.features[row].copy_(r.features);
  b.spatials[row].copy_(r.spatials);
  b.image_mask[row].copy_(r.mask);
}

void TaskDataset::require_images(const FeatureStore& store, const std::vector<std::string>& ids) const {
  int64_t missing = 0;
  std::string first;
  for (const std::string& id : ids) {
    if (!store.contains(id)) {
      if (missing++ == 0) first = id;
    }
  }
  if (missing > 0)
    throw DataError(cat(ctx_.annotation_path, " references ", missing, " image(s) absent from ",
                        store.path(), ", first: '", first, "'"));
}

std::string resolve_data_root(const DataConfig& data) {
  std::string root, why;
  if (!data.root.empty()) {
    root = data.root;
    why = "data.root";
  } else if (const auto env = env::text("VLMT_DATA_ROOT")) {
    root = *env;
    why = "$VLMT_DATA_ROOT";
  } else {
    root = "./data";
    why = "default (neither data.root nor $VLMT_DATA_ROOT set)";
  }
  static std::mutex m;
  static std::string last_logged;
  std::lock_guard<std::mutex> lock(m);
  if (last_logged != root) {
    log::info0(cat("data root ", root, " from ", why));
    last_logged = root;
  }
  if (!fs::is_directory(root)) throw DataError(cat("data root ", root, " (from ", why, ") is not a directory"));
  return root;
}

std::shared_ptr<const WordPiece> open_vocab(const std::string& path) {
  static std::mutex m;
  static std::unordered_map<std::string, std::weak_ptr<const WordPiece>> open;
  std::lock_guard<std::mutex> lock(m);
  if (auto existing = open[path].lock()) return existing;
  auto vocab = std::make_shared<const WordPiece>(WordPiece::from_file(path));
  open[path] = vocab;
  return vocab;
}

DatasetContext open_dataset_context(const std::string& root, const DataConfig& data, const ModelConfig& model,
                                    const std::string& annotation_dir, const std::string& split,
                                    const std::string& source, int max_text, int max_regions) {
  DatasetContext ctx;
  ctx.split = split;
  ctx.max_text = max_text;
  ctx.max_regions = max_regions;
  ctx.annotation_path = (fs::path(root) / "annotations" / annotation_dir / (split + ".jsonl")).string();
  const fs::path vocab_path = fs::path(data.vocab).is_absolute() ? fs::path(data.vocab) : fs::path(root) / data.vocab;
  ctx.vocab = open_vocab(vocab_path.string());
  if (ctx.vocab->size() > model.vocab_size)
    throw DataError(cat("vocabulary ", vocab_path.string(), " has ", ctx.vocab->size(),
                        " tokens but the model's vocab_size is ", model.vocab_size));
  ctx.features = open_feature_store((fs::path(root) / "features" / (source + ".h5")).string(),
                                    data.feature_cache_mb);
  if (ctx.features->feature_dim() != model.v_feature_size)
    throw DataError(cat("region-feature file ", ctx.features->path(), " has feature_dim ",
                        ctx.features->feature_dim(), " but the model's v_feature_size is ",
                        model.v_feature_size));
  const fs::path clean = fs::path(root) / "splits" / "clean_split.json";
  // The released code cleans training data only (its *_cleaned train files); the paper's text
  // also cleans val (data.clean_val_split).
  const bool cleaned_split = split == "train" || (data.clean_val_split && split.rfind("test", 0) != 0);
  if (data.clean_split && cleaned_split) {
    if (fs::exists(clean)) {
      ctx.removed_images =
          std::make_shared<const std::vector<std::string>>(read_removed_image_ids(clean.string(), source));
    } else {
      // Said once per data root: training on test images must never go unnoticed.
      static std::mutex mutex;
      static std::set<std::string> told;
      std::lock_guard<std::mutex> lock(mutex);
      if (told.insert(root).second)
        log::warn0(cat("data.clean_split is on but ", clean.string(), " does not exist: no test image is removed "
                       "from training data (run clean_split --root ", root, ", or set data.clean_split = false)"));
    }
  }
  return ctx;
}

void open_gt_features(DatasetContext& ctx, const std::string& root, const DataConfig& data, const std::string& gt_source) {
  ctx.gt_features = open_feature_store((fs::path(root) / "features" / (gt_source + ".h5")).string(),
                                       data.feature_cache_mb);
  if (ctx.gt_features->feature_dim() != ctx.features->feature_dim())
    throw DataError(cat("region-feature files ", ctx.features->path(), " and ", ctx.gt_features->path(),
                        " disagree on feature_dim (", ctx.features->feature_dim(), " vs ",
                        ctx.gt_features->feature_dim(), ")"));
}

}  // namespace vlmt

namespace vlmt {

std::map<std::string, std::string> feature_fingerprints(const DatasetContext& ctx) {
  std::map<std::string, std::string> out;
  if (ctx.features) out[ctx.task_key] = ctx.features->fingerprint();
  if (ctx.gt_features) out[ctx.task_key + "_gt"] = ctx.gt_features->fingerprint();
  return out;
}

std::vector<std::string> fingerprint_mismatches(const std::map<std::string, std::string>& trained,
                                                const std::map<std::string, std::string>& now) {
  std::vector<std::string> out;
  for (const auto& [key, fp] : now) {
    auto it = trained.find(key);
    if (it != trained.end() && it->second != fp)
      out.push_back(cat("features of ", key, ": trained on ", it->second, ", now ", fp));
  }
  return out;
}

}  // namespace vlmt

#include "jobs/inference.h"

#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "data/feature_store.h"
#include "data/task_dataset.h"
#include "tasks/kind_util.h"
#include "tasks/task_kind.h"
#include "text/wordpiece.h"

namespace fs = std::filesystem;

namespace vlmt {
namespace {

// Builds a batch of `images.size()` rows pairing the text with each image (`rows_per_item`
// rows per item: 2 for a pair of images, else 1). Rows are padded to max_text like the
// training batches.
Batch make_rows(const RunConfig& cfg, const TaskSpec& spec, const std::string& root, const std::string& text,
                const std::vector<std::string>& images, FeatureStore& store, std::vector<torch::Tensor>* boxes_out) {
  const std::string vocab_path = fs::path(cfg.data.vocab).is_absolute() ? cfg.data.vocab : (fs::path(root) / cfg.data.vocab).string();
  const auto vocab = open_vocab(vocab_path);
  const TaskHyper& hyper = cfg.tasks.of(spec.key);
  const auto encoded = vocab->encode_framed(text, hyper.max_text);
  const int64_t rows = images.size(), len = static_cast<int64_t>(encoded.ids.size()), r = hyper.max_regions;
  Batch b;
  b.task = spec.key;
  b.task_id = spec.id;
  b.rows_per_item = spec.kind().rows_per_inference_item();
  b.size = rows / b.rows_per_item;
  b.input_ids = torch::tensor(encoded.ids, torch::kInt64).view({1, len}).repeat({rows, 1});
  b.segment_ids = torch::tensor(encoded.segment_ids, torch::kInt64).view({1, len}).repeat({rows, 1});
  b.text_mask = torch::tensor(encoded.mask, torch::kInt64).view({1, len}).repeat({rows, 1});
  b.features = torch::zeros({rows, r, store.feature_dim()});
  b.spatials = torch::zeros({rows, r, 5});
  b.image_mask = torch::zeros({rows, r}, torch::kInt64);
  for (int64_t i = 0; i < rows; ++i) {
    if (!store.contains(images[i]))
      throw DataError(cat(store.path(), ": no image \"", images[i], "\""));
    RegionInput in = make_region_input(store.get(images[i]), r);
    b.features[i].copy_(in.features);
    b.spatials[i].copy_(in.spatials);
    b.image_mask[i].copy_(in.mask);
    boxes_out->push_back(in.boxes);
  }
  b.image_ids = images;
  return b;
}

}  // namespace

nlohmann::json run_inference(const RunConfig& cfg, MultiTaskModelImpl& model, const InferenceRequest& req) {
  torch::NoGradGuard no_grad;
  model.eval();
  const TaskSpec& spec = task_by_key(req.task);
  const TaskKind& kind = spec.kind();
  const std::string root = resolve_data_root(cfg.data);
  auto store = open_feature_store((fs::path(root) / "features" / (spec.image_source + ".h5")).string(),
                                  cfg.data.feature_cache_images);
  const std::vector<std::string> images = kind.inference_images(spec, req.image_ids, store->ids());

  std::vector<torch::Tensor> boxes;
  Batch b = make_rows(cfg, spec, root, req.text, images, *store, &boxes);
  auto out = model.forward(b);
  nlohmann::json j = {{"task", spec.key}, {"text", req.text}, {"image_ids", images}};
  j.update(kind.format_inference(model, out, b, InferenceContext{spec, root, images, boxes, req.top}));
  if (req.embed) {
    using kind_util::to_vector;
    j["embedding"] = {{"pooled_text", to_vector(out.trunk.pooled_text[0])},
                      {"pooled_image", to_vector(out.trunk.pooled_image[0])},
                      {"fused", to_vector(out.fused[0])}};
  }
  return j;
}

}  // namespace vlmt

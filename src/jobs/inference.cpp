#include "jobs/inference.h"

#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "data/feature_store.h"
#include "data/task_dataset.h"
#include "tasks/kind_util.h"
#include "tasks/task_data.h"
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
  b.task_group = spec.group;
  b.rows_per_item = kind_of(spec).rows_per_inference_item();
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

InferenceRequest parse_inference_request(const nlohmann::json& line, const std::string& where) {
  if (!line.is_object()) throw ConfigError(cat(where, ": a request is a JSON object, got ", line.dump()));
  auto text_field = [&](const char* key) {
    const auto& v = line.at(key);
    if (!v.is_string()) throw ConfigError(cat(where, ": \"", key, "\" must be a string, got ", v.dump()));
    return v.get<std::string>();
  };
  InferenceRequest req;
  for (const char* key : {"task", "text"})
    if (!line.contains(key)) throw ConfigError(cat(where, ": \"", key, "\" is missing"));
  for (const auto& [key, value] : line.items()) {
    if (key == "task") req.task = text_field("task");
    else if (key == "text") req.text = text_field("text");
    else if (key == "features") req.features = text_field("features");
    else if (key == "image_id") req.image_ids = {text_field("image_id")};
    else if (key == "image_ids") {
      if (!value.is_array()) throw ConfigError(cat(where, ": \"image_ids\" must be an array of strings"));
      for (const auto& id : value) {
        if (!id.is_string()) throw ConfigError(cat(where, ": \"image_ids\" must be an array of strings, has ", id.dump()));
        req.image_ids.push_back(id.get<std::string>());
      }
    } else if (key == "top") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > 1000000)
        throw ConfigError(cat(where, ": \"top\" must be an integer in [1, 1000000], got ", value.dump()));
      req.top = value.get<int>();
    } else if (key == "embed") {
      if (!value.is_boolean()) throw ConfigError(cat(where, ": \"embed\" must be true or false, got ", value.dump()));
      req.embed = value.get<bool>();
    } else if (key != "id") {
      throw ConfigError(cat(where, ": unknown key \"", key,
                            "\" (known: task, text, image_id, image_ids, top, embed, features, id)"));
    }
  }
  return req;
}

InferenceSession::InferenceSession(RunConfig config, MultiTaskModel model)
    : config_(std::move(config)), model_(std::move(model)), data_root_(resolve_data_root(config_.data)) {
  model_->eval();
}

FeatureStore& InferenceSession::features_of(const std::string& path) {
  auto& store = stores_[path];
  if (!store) {
    store = open_feature_store(path, config_.data.feature_cache_mb);
    if (store->feature_dim() != config_.model.v_feature_size)
      throw DataError(cat(path, ": features of dimension ", store->feature_dim(), ", but the model reads ",
                          config_.model.v_feature_size, " (model.v_feature_size): features from another detector?"));
  }
  return *store;
}

nlohmann::json InferenceSession::answer(const InferenceRequest& req) {
  torch::NoGradGuard no_grad;
  const TaskSpec& spec = config_.catalog.by_key(req.task);
  const TaskKind& kind = kind_of(spec);
  const std::string path = req.features.empty()
                               ? (fs::path(data_root_) / "features" / (feature_sources(spec, config_.tasks.of(spec.key)).detections + ".h5")).string()
                               : req.features;
  FeatureStore& store = features_of(path);
  const std::vector<std::string> images = kind.inference_images(spec, req.image_ids, store.ids());

  std::vector<torch::Tensor> boxes;
  Batch b = make_rows(config_, spec, data_root_, req.text, images, store, &boxes);
  auto out = model_->forward(b);
  nlohmann::json j = {{"task", spec.key}, {"text", req.text}, {"image_ids", images}};
  j.update(kind.format_inference(*model_, out, b, InferenceContext{spec, data_root_, images, boxes, req.top}));
  j["features"] = {{"file", store.path()}, {"fingerprint", store.fingerprint()}};
  if (req.embed) {
    using kind_util::to_vector;
    j["embedding"] = {{"pooled_text", to_vector(out.trunk.pooled_text[0])},
                      {"pooled_image", to_vector(out.trunk.pooled_image[0])},
                      {"fused", to_vector(out.fused[0])}};
  }
  return j;
}

}  // namespace vlmt

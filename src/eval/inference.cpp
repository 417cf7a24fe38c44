#include "eval/inference.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/log.h"
#include "data/feature_store.h"
#include "data/loader.h"
#include "text/wordpiece.h"

namespace fs = std::filesystem;

namespace vlmt {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous().view({-1});
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Builds a batch of `images.size()` rows pairing the text with each image.
Batch make_rows(const RunConfig& cfg, const TaskSpec& spec, const std::string& text,
                const std::vector<std::string>& images, FeatureStore& store, std::vector<RegionInput>* regions_out) {
  const std::string root = resolve_data_root(cfg.data);
  const std::string vocab_path = fs::path(cfg.data.vocab).is_absolute() ? cfg.data.vocab : (fs::path(root) / cfg.data.vocab).string();
  const auto vocab = open_vocab(vocab_path);
  const TaskHyper& hyper = cfg.tasks.of(spec.key);
  const auto encoded = vocab->encode_framed(text, hyper.max_text);
  // Rows are padded to max_text like the training batches (`length` counts the real tokens).
  const int64_t rows = images.size(), len = static_cast<int64_t>(encoded.ids.size()), r = hyper.max_regions;
  Batch b;
  b.task = spec.key;
  b.task_id = spec.id;
  b.size = spec.type == TaskType::kVLBinaryClassifier ? 1 : rows;
  b.rows_per_item = spec.type == TaskType::kVLBinaryClassifier ? 2 : 1;
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
    if (regions_out) regions_out->push_back(in);
  }
  b.image_ids = images;
  return b;
}

std::vector<std::string> read_answers(const std::string& root, const TaskSpec& spec) {
  for (const std::string dir : {spec.key, std::string("vqa")}) {
    const auto path = fs::path(root) / "annotations" / dir / "answers.json";
    if (!fs::exists(path)) continue;
    std::ifstream in(path);
    return nlohmann::json::parse(in)["answers"].get<std::vector<std::string>>();
  }
  throw DataError(cat(spec.key, ": no answers.json under ", root, "/annotations"));
}

}  // namespace

nlohmann::json run_inference(const RunConfig& cfg, MultiTaskModelImpl& model, const InferenceRequest& req) {
  torch::NoGradGuard no_grad;
  model.eval();
  const TaskSpec& spec = task_by_key(req.task);
  const std::string root = resolve_data_root(cfg.data);
  auto store = open_feature_store((fs::path(root) / "features" / (spec.image_source + ".h5")).string(),
                                  cfg.data.feature_cache_images);
  std::vector<std::string> images = req.image_ids;
  if (spec.type == TaskType::kVLLogit && images.empty()) images = store->ids();
  if (spec.type == TaskType::kVLBinaryClassifier && images.size() != 2)
    throw ConfigError("infer --task nlvr2 needs two images: --image-id LEFT,RIGHT");
  if (images.empty()) throw ConfigError(cat("infer --task ", spec.key, " needs --image-id"));
  if (spec.type != TaskType::kVLLogit && spec.type != TaskType::kVLBinaryClassifier && images.size() != 1)
    throw ConfigError(cat("infer --task ", spec.key, " takes one image"));

  std::vector<RegionInput> regions;
  Batch b = make_rows(cfg, spec, req.text, images, *store, &regions);
  auto out = model.forward(b);
  nlohmann::json j = {{"task", spec.key}, {"text", req.text}, {"image_ids", images}};
  switch (spec.type) {
    case TaskType::kVLClassifier:
    case TaskType::kVLClassifierGQA: {
      auto probs = torch::sigmoid(spec.type == TaskType::kVLClassifier ? model.vqa_logits(out) : model.gqa_logits(out))[0];
      const auto answers = read_answers(root, spec);
      auto top = probs.narrow(0, 0, std::min<int64_t>(probs.size(0), answers.size())).topk(std::min<int64_t>(req.top, answers.size()));
      for (int64_t k = 0; k < std::get<0>(top).size(0); ++k)
        j["answers"].push_back({{"answer", answers[std::get<1>(top)[k].item<int64_t>()]},
                                {"score", std::get<0>(top)[k].item<double>()}});
      break;
    }
    case TaskType::kVLLogit: {
      auto scores = model.retrieval_logits(out).view({-1});
      auto order = scores.argsort(0, /*descending=*/true);
      for (int64_t k = 0; k < std::min<int64_t>(req.top, order.size(0)); ++k) {
        const int64_t i = order[k].item<int64_t>();
        j["ranking"].push_back({{"image_id", images[i]}, {"score", scores[i].item<double>()}});
      }
      break;
    }
    case TaskType::kVLogit:
    case TaskType::kVLogitMC: {
      auto logits = model.region_logits(out, b.image_mask)[0];
      logits[0] = -1e9;  // the IMG region stands for the whole image, not a box
      const int64_t best = logits.argmax().item<int64_t>();
      j["box"] = to_vector(regions[0].boxes[best]);
      j["region"] = best;
      j["score"] = torch::sigmoid(logits[best]).item<double>();
      break;
    }
    case TaskType::kVLBinaryClassifier: {
      auto p = torch::softmax(model.binary_logits(out)[0], 0);
      j["label"] = p[1].item<double>() > 0.5;
      j["probability_true"] = p[1].item<double>();
      break;
    }
    case TaskType::kVLTriClassifier: {
      static const char* labels[] = {"entailment", "neutral", "contradiction"};
      auto p = torch::softmax(model.tri_logits(out)[0], 0);
      const int64_t best = p.argmax().item<int64_t>();
      j["label"] = labels[best];
      for (int k = 0; k < 3; ++k) j["probabilities"][labels[k]] = p[k].item<double>();
      break;
    }
  }
  if (req.embed) {
    j["embedding"] = {{"pooled_text", to_vector(out.trunk.pooled_text[0])},
                      {"pooled_image", to_vector(out.trunk.pooled_image[0])},
                      {"fused", to_vector(out.fused[0])}};
  }
  return j;
}

}  // namespace vlmt

#pragma once
// Images and texts through a trained model, for the `infer` command: the answer users ask for,
// as JSON. One InferenceSession serves many requests (infer's --requests batch mode): the model,
// the vocabulary and every opened feature file stay loaded between them.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/run_config.h"
#include "model/multitask_model.h"

namespace vlmt {

class FeatureStore;

struct InferenceRequest {
  std::string task;                    // task key
  std::vector<std::string> image_ids;  // one (two for nlvr2); retrieval: the candidate images ("" = all)
  std::string text;
  int top = 5;
  bool embed = false;                  // add pooled text / image / fused vectors
  // A feature file in the HDF5 store layout (docs/DATA.md) holding the request's images, e.g.
  // the user's own images converted with tools/convert/features_from_{npz,tsv}.py; empty: the
  // data root's file of the task's image source.
  std::string features;
};

// One request of a JSON Lines batch: {"task", "text", "image_ids": [...] or "image_id",
// "top", "embed", "features", "id"}; ConfigError naming `where` (file:line) and the key for a
// missing, unknown or mistyped field. "id" is the caller's and is echoed, not parsed.
InferenceRequest parse_inference_request(const nlohmann::json& line, const std::string& where);

class InferenceSession {
 public:
  InferenceSession(RunConfig config, MultiTaskModel model);

  // {"task", "text", "image_ids", ...task-specific fields..., "features", optional
  // "embedding"}; ConfigError / DataError naming the task, image or file.
  nlohmann::json answer(const InferenceRequest& request);

 private:
  FeatureStore& features_of(const std::string& path);

  RunConfig config_;
  MultiTaskModel model_;
  std::string data_root_;
  std::map<std::string, std::shared_ptr<FeatureStore>> stores_;
};

}  // namespace vlmt

#pragma once
// One image (or two, for NLVR2) and one text through a trained model, for the `infer` command:
// the answer users ask for, as JSON.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "config/run_config.h"
#include "model/multitask_model.h"

namespace vlmt {

struct InferenceRequest {
  std::string task;                    // task key
  std::vector<std::string> image_ids;  // one (two for nlvr2); retrieval: the candidate images ("" = all)
  std::string text;
  int top = 5;
  bool embed = false;                  // add pooled text / image / fused vectors
};

// Returns {"task", "text", ...task-specific fields..., optional "embedding"}.
nlohmann::json run_inference(const RunConfig& config, MultiTaskModelImpl& model, const InferenceRequest& request);

}  // namespace vlmt

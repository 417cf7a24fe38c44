#pragma once
// A trained model back from a stage's checkpoint: the config stored in it (with command-line
// overrides applied) and the parameters, checked strictly. Used by evaluate and infer.
#include <string>
#include <vector>

#include "config/run_config.h"
#include "model/multitask_model.h"

namespace vlmt::ckpt {

struct LoadedModel {
  RunConfig config;
  MultiTaskModel model{nullptr};
};

struct CheckpointData;

// The run configuration stored in a stage checkpoint (read_checkpoint), overrides applied.
RunConfig stored_run_config(const CheckpointData& data, const std::string& path,
                            const std::vector<std::string>& overrides = {});

// overrides: `section.key=value` strings (e.g. from --set, or data.root from --data-root).
LoadedModel load_model_checkpoint(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace vlmt::ckpt

#pragma once
// A trained model back from a file, for evaluate and infer: either a stage's checkpoint (its
// stored config, with command-line overrides applied) or a parameter file — a converted
// release (tools/convert/convert_vilbert_checkpoint.py) or an import_bert output — whose model and
// tasks come from a run file. Parameters are checked strictly either way, and the answer
// vocabularies and training-feature fingerprints stored with them become the model's
// provenance (model/provenance.h).
#include <string>
#include <vector>

#include "config/run_config.h"
#include "model/multitask_model.h"

namespace vlmt::ckpt {

struct LoadedModel {
  RunConfig config;
  MultiTaskModel model{nullptr};
  std::string kind;  // "checkpoint" | "parameters"
};

struct CheckpointData;

// The run configuration stored in a stage checkpoint (read_checkpoint), overrides applied.
RunConfig stored_run_config(const CheckpointData& data, const std::string& path,
                            const std::vector<std::string>& overrides = {});

// The run file a parameter file is evaluated under when none is given: the 12-in-1 model.
inline constexpr const char* kParameterFileDefaultConfig = "configs/at.toml";

// overrides: `section.key=value` strings (e.g. from --set, or data.root from --data-root).
// parameters_config: the run file for a parameter file ("" = kParameterFileDefaultConfig, said
// in the log); a ConfigError if given for a stage checkpoint, which carries its own.
LoadedModel load_model_checkpoint(const std::string& path, const std::vector<std::string>& overrides,
                                  const std::string& parameters_config = "");

}  // namespace vlmt::ckpt

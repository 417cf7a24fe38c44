#pragma once
// Where evaluate and infer get their model: --ckpt (a stage checkpoint, or a parameter file with
// --config for its model and tasks), --data-root, --allow-feature-mismatch and --set, declared
// and read the same way by both.
#include <string>
#include <vector>

#include "ckpt/model_checkpoint.h"
#include "core/cli.h"

namespace vlmt {

// The options above.
std::vector<CliOption> model_source_options();
// Loads the model --ckpt names (ConfigError if it is missing).
ckpt::LoadedModel load_model_source(const CliArgs& args, const std::string& program);

}  // namespace vlmt

#include "jobs/model_source.h"

#include "core/error.h"
#include "core/log.h"
#include "tasks/task_kind.h"

namespace vlmt {

std::vector<CliOption> model_source_options() {
  return {cli_set(),
          cli_text("ckpt", "model: a stage's checkpoint (latest.h5) or a parameter file (a converted release, "
                           "tools/convert/convert_vilbert_checkpoint.py)"),
          cli_text("config", cat("with a parameter file: the run file giving its model and tasks (default ",
                                 ckpt::kParameterFileDefaultConfig, ")")),
          cli_text("data-root", "data root (default: the checkpoint's or the run file's data.root / $VLMT_DATA_ROOT)"),
          cli_flag("allow-feature-mismatch", "score on region features other than the ones the model was "
                                             "trained on (a warning instead of an error)")};
}

ckpt::LoadedModel load_model_source(const CliArgs& args, const std::string& program) {
  if (!args.has("ckpt")) throw ConfigError(cat(program, ": --ckpt PATH is required"));
  std::vector<std::string> overrides = args.overrides;
  if (args.has("data-root")) overrides.push_back("data.root=\"" + args.get("data-root") + "\"");
  if (args.has("allow-feature-mismatch")) overrides.push_back("data.allow_fingerprint_mismatch=true");
  ckpt::LoadedModel loaded = ckpt::load_model_checkpoint(args.get("ckpt"), overrides, args.get("config", ""));
  check_task_kinds(loaded.config.catalog);
  return loaded;
}

}  // namespace vlmt

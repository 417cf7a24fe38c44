#include "ckpt/model_checkpoint.h"

#include "ckpt/checkpoint.h"
#include "ckpt/param_io.h"
#include "config/toml_reader.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt::ckpt {

RunConfig stored_run_config(const CheckpointData& data, const std::string& path,
                            const std::vector<std::string>& overrides) {
  toml::table table;
  try {
    table = toml::parse(data.config_toml);
  } catch (const toml::parse_error& e) {
    throw CheckpointError(cat(path, ": stored config does not parse: ", e.description()));
  }
  for (const auto& o : overrides) apply_override(table, o, "--set");
  return run_config_from_table(table, path + " (stored config)");
}

LoadedModel load_model_checkpoint(const std::string& path, const std::vector<std::string>& overrides) {
  auto data = read_checkpoint(path);
  LoadedModel out;
  out.config = stored_run_config(data, path, overrides);
  out.model = MultiTaskModel(out.config.model);
  load_parameters(*out.model, data.params, path, /*allow_partial=*/false);
  out.model->eval();
  return out;
}

}  // namespace vlmt::ckpt

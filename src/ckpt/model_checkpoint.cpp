#include "ckpt/model_checkpoint.h"

#include "ckpt/checkpoint.h"
#include "ckpt/head_answers.h"
#include "ckpt/param_io.h"
#include "config/toml_reader.h"
#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"

namespace vlmt::ckpt {

namespace {

std::string file_kind(const std::string& path) {
  h5::Handle file = h5::open_file_readonly(path);
  if (!h5::has_attr(file.get(), "kind"))
    throw CheckpointError(cat(path, ": not a vlmt checkpoint or parameter file (no 'kind' attribute)"));
  return h5::read_string_attr(file.get(), "kind", path);
}

LoadedModel from_stage_checkpoint(const std::string& path, const std::vector<std::string>& overrides) {
  auto data = read_checkpoint(path);
  LoadedModel out;
  out.kind = "checkpoint";
  out.config = stored_run_config(data, path, overrides);
  out.model = MultiTaskModel(out.config.model);
  load_parameters(*out.model, data.params, path, /*allow_partial=*/false);
  out.model->provenance = {data.answers, data.fingerprints, path};
  return out;
}

LoadedModel from_parameter_file(const std::string& path, const std::vector<std::string>& overrides,
                                const std::string& config_arg) {
  const std::string config = locate_config(config_arg.empty() ? kParameterFileDefaultConfig : config_arg);
  log::info0(cat(path, " is a parameter file (weights only): model and tasks from ", config,
                 config_arg.empty() ? " (the default; --config FILE chooses another)" : ""));
  LoadedModel out;
  out.kind = "parameters";
  out.config = load_run_config(config, overrides);
  out.model = MultiTaskModel(out.config.model);
  load_parameters(*out.model, path, /*allow_partial=*/false);
  out.model->provenance.head_answers = read_head_answers(path);
  out.model->provenance.source = path;
  log::info0(cat(path, ": no record of the region features it was trained on; feature fingerprints are "
                       "not checked"));
  return out;
}

}  // namespace

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

LoadedModel load_model_checkpoint(const std::string& path, const std::vector<std::string>& overrides,
                                  const std::string& parameters_config) {
  const std::string kind = file_kind(path);
  LoadedModel out;
  if (kind == "checkpoint") {
    if (!parameters_config.empty())
      throw ConfigError(cat("--config ", parameters_config, ": ", path,
                            " is a stage checkpoint and carries its own config (use --set to change it)"));
    out = from_stage_checkpoint(path, overrides);
  } else if (kind == "parameters") {
    out = from_parameter_file(path, overrides, parameters_config);
  } else {
    throw CheckpointError(cat(path, ": a '", kind, "' file is neither a stage checkpoint nor a parameter file"));
  }
  out.model->eval();
  return out;
}

}  // namespace vlmt::ckpt

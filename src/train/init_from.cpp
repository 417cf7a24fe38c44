#include "train/init_from.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "ckpt/blob.h"
#include "ckpt/checkpoint_file.h"
#include "ckpt/model_checkpoint.h"
#include "ckpt/param_io.h"
#include "core/error.h"
#include "core/log.h"
#include "tasks/task_kind.h"
#include "train/trainer_state.h"

namespace fs = std::filesystem;

namespace vlmt {

namespace {

bool has_prefix(const std::string& name, const std::string& prefix) { return name.rfind(prefix, 0) == 0; }

bool any_prefix(const std::string& name, const std::set<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return has_prefix(name, p); });
}

// "a, b, c (and N more)": long name lists stay readable in one log line.
std::string some_names(const std::vector<std::string>& names, size_t shown = 8) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += cat(" (and ", names.size() - shown, " more)");
  return out;
}

// Missing names grouped by the expected prefix that covers them, for the WARN line.
std::string missing_by_prefix(const std::vector<std::string>& missing, const std::set<std::string>& prefixes) {
  std::map<std::string, int> count;
  for (const auto& name : missing)
    for (const auto& p : prefixes)
      if (has_prefix(name, p)) {
        ++count[p];
        break;
      }
  std::string out;
  for (const auto& [p, n] : count) out += cat(out.empty() ? "" : ", ", p, "* (", n, ")");
  return out;
}

}  // namespace

ckpt::NamedTensors trained_parameters(const ckpt::CheckpointData& data, const TaskCatalog& catalog,
                                      std::set<std::string>& left_out) {
  const auto state = ckpt::from_blob<TrainerState>(data.trainer_state);
  std::set<std::string> prefixes = {"bert.", "cls."};
  for (const auto& [key, stream] : state.streams) prefixes.insert(head_prefix(catalog.by_key(key)));
  ckpt::NamedTensors kept;
  for (const auto& [name, tensor] : data.params) {
    if (any_prefix(name, prefixes)) kept.emplace_back(name, tensor);
    else left_out.insert(name.substr(0, name.find('.')) + ".");
  }
  return kept;
}

std::set<std::string> initialise_from(MultiTaskModelImpl& model, const std::string& path,
                                      const std::vector<std::string>& expect_missing) {
  if (!fs::exists(path))
    throw CheckpointError(cat("train.init_from: ", path, " does not exist (run the earlier stage first, or set "
                              "train.init_from / --init-from)"));
  // An earlier stage's checkpoint, or a bare parameter file (BERT import, converted release).
  // What the file is decides: a damaged stage checkpoint is an error, never retried as a
  // parameter file (that would load its untrained heads too).
  std::optional<ckpt::CheckpointData> data;
  if (ckpt::is_checkpoint_file(path)) data = ckpt::read_checkpoint(path);
  std::set<std::string> expected(expect_missing.begin(), expect_missing.end());
  std::set<std::string> left_out;
  ckpt::NamedTensors trained;
  if (data) {
    try {
      trained = trained_parameters(*data, ckpt::stored_run_config(*data, path).catalog, left_out);
    } catch (const CheckpointError& e) {
      throw CheckpointError(cat("train.init_from ", path, ": ", e.what()));
    }
  }
  const ckpt::LoadReport report = data ? ckpt::load_parameters(model, trained, path, /*allow_partial=*/true)
                                       : ckpt::load_parameters(model, path, /*allow_partial=*/true);
  if (!left_out.empty())
    log::info0(cat(path, ": its ", data->stage, " stage did not train ", some_names({left_out.begin(), left_out.end()}),
                   "; they start from this run's initialisation"));
  expected.insert(left_out.begin(), left_out.end());

  std::vector<std::string> problems;
  std::vector<std::string> unexpected_missing;
  for (const auto& name : report.missing)
    if (!any_prefix(name, expected)) unexpected_missing.push_back(name);
  if (!unexpected_missing.empty())
    problems.push_back(cat(unexpected_missing.size(), " parameter(s) of the model are not in the file: ",
                           some_names(unexpected_missing)));
  if (!report.unexpected.empty())
    problems.push_back(cat(report.unexpected.size(), " tensor(s) of the file are not in the model: ",
                           some_names(report.unexpected)));
  for (const auto& m : report.mismatched)
    problems.push_back(cat(m.name, " has shape ", c10::IntArrayRef(m.file_shape), " in the file, ",
                           c10::IntArrayRef(m.module_shape), " in the model"));
  if (!problems.empty()) {
    std::string text;
    for (const auto& p : problems) text += "\n  " + p;
    throw CheckpointError(cat("train.init_from ", path, " does not fit the model:", text,
                              "\n(parameters the file may lack are listed by prefix in train.init_expect_missing; "
                              "a different model preset or task-token mode changes names and shapes)"));
  }
  if (!report.missing.empty())
    log::warn(cat("train.init_from ", path, ": ", report.missing.size(),
                  " parameter(s) not in the file start from this run's initialisation: ",
                  missing_by_prefix(report.missing, expected)));

  const std::set<std::string> loaded(report.loaded.begin(), report.loaded.end());
  const ckpt::HeadAnswers answers = data ? data->answers : ckpt::read_head_answers(path);
  for (const auto& [head, list] : answers)
    if (std::any_of(loaded.begin(), loaded.end(), [&](const std::string& n) { return has_prefix(n, head + "."); }))
      model.provenance.head_answers[head] = list;
  model.provenance.source = path;
  log::info0(cat("initialised from ", path, ": ", report.loaded.size(), " tensors loaded, ", report.missing.size(),
                 " start from this run's initialisation"));
  return loaded;
}

}  // namespace vlmt

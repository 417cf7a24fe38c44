#include "eval/runs_file.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>

#include "config/toml_reader.h"

namespace vlmt {
namespace {

// What a runs file says about one run: only the keys it sets.
struct RunLabelsOfRunsFile {
  std::optional<std::string> setting;
  std::optional<int64_t> dsg_gap, models, seed;
};

RunLabelsOfRunsFile read_run_labels(TomlSection entry) {
  RunLabelsOfRunsFile labels;
  if (entry.has("setting")) labels.setting = entry.get("setting", std::string());
  if (entry.has("dsg_gap")) labels.dsg_gap = entry.get("dsg_gap", int64_t{0});
  if (entry.has("models")) labels.models = entry.get("models", int64_t{0});
  if (entry.has("seed")) labels.seed = entry.get("seed", int64_t{0});
  entry.finish();
  return labels;
}

// The run a results file belongs to, as the runs file names it.
std::string run_named_by_runs_file(const ResultsFile& file) {
  return file.info ? file.info->run : (file.results.empty() ? "" : file.results.front().run);
}

}  // namespace

void apply_runs_file(const std::string& path, std::vector<ResultsFile>& files) {
  const toml::table doc = parse_toml_file(path);
  ConfigIssues issues;
  TomlSection root(&doc, "", path, &issues, nullptr);
  TomlSection runs = root.child("runs");
  std::map<std::string, RunLabelsOfRunsFile> labels;
  for (const auto& name : runs.keys()) labels[name] = read_run_labels(runs.child(name));
  root.finish();
  for (const auto& [name, unused] : labels)
    runs.require(std::any_of(files.begin(), files.end(),
                             [&](const ResultsFile& f) { return run_named_by_runs_file(f) == name; }),
                 name, "this run is in none of the results files");
  issues.throw_if_any();
  for (auto& file : files) {
    const std::string run = run_named_by_runs_file(file);
    const auto it = labels.find(run);
    if (it == labels.end()) continue;
    if (!file.info) file.info = RunInfo{run};
    const RunLabelsOfRunsFile& set = it->second;
    if (set.setting) file.info->setting = *set.setting;
    if (set.dsg_gap) file.info->dsg_gap = set.dsg_gap;
    if (set.models) file.info->models = set.models;
    if (set.seed) file.info->seed = set.seed;
  }
}

}  // namespace vlmt

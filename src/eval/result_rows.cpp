#include "eval/result_rows.h"

#include <algorithm>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/mt_vgc_results.h"
#include "eval/table_render.h"

namespace vlmt {
namespace {

std::string result_row_label(const ResultsFile& file) {
  if (file.info && !file.info->setting.empty()) return file.info->setting;
  if (file.info) return file.info->run;
  if (!file.results.empty()) return file.results.front().run;
  return file.path;
}

}  // namespace

const TaskResults& ResultRow::first_seed() const {
  static const TaskResults none;
  return by_seed.empty() ? none : by_seed.begin()->second;
}

void merge_results_file(ResultRow& row, const ResultsFile& file) {
  const std::string run = file.info ? file.info->run : (file.results.empty() ? file.path : file.results.front().run);
  const int64_t seed = file.info && file.info->seed ? *file.info->seed : 0;
  if (!row.counted_seed) row.counted_seed = seed;
  TaskResults& by_task = row.by_seed[seed];
  if (row.runs.insert(run).second && *row.counted_seed == seed) {
    if (file.info && file.info->params && row.params) *row.params += *file.info->params;
    else row.params.reset();
    row.models += file.info && file.info->models ? *file.info->models : 1;
  }
  for (const auto& r : file.results) {
    if (r.task == kMtVgcTask) continue;  // a cross-task analysis, not a cell of the tables
    const TaskSpec* spec = nullptr;
    try {
      spec = &builtin_task(r.task);
    } catch (const ConfigError&) {
      log::warn(cat(file.path, ": result for unknown task \"", r.task, "\" ignored in tables"));
      continue;
    }
    // A split without labels (VQA test-dev) has a submission file, not a score: "-".
    if (r.extras.value("has_ground_truth", true) == false) continue;
    if (r.metric == spec->metric) by_task[spec->key] = r;
  }
}

std::vector<ResultRow> rows_by_setting(const std::vector<ResultsFile>& files) {
  std::vector<ResultRow> rows;
  for (const auto& file : files) {
    const std::string label = result_row_label(file);
    auto it = std::find_if(rows.begin(), rows.end(), [&](const ResultRow& r) { return r.label == label; });
    if (it == rows.end()) {
      rows.push_back(ResultRow{});
      rows.back().label = label;
      it = rows.end() - 1;
    }
    merge_results_file(*it, file);
  }
  return rows;
}

std::optional<ResultRow> chance_row(const std::vector<ResultRow>& rows) {
  ResultRow chance;
  chance.label = "chance (uniform choice / answer prior)";
  chance.params = std::nullopt;
  TaskResults& levels = chance.by_seed[0];
  for (const auto& row : rows)
    for (const auto& [key, record] : row.first_seed())
      if (const auto level = number_extra(record, "chance"); level && !levels.count(key)) {
        ResultRecord entry = record;
        entry.score = *level;
        levels[key] = entry;
      }
  if (levels.empty()) return std::nullopt;
  return chance;
}

std::optional<double> task_score(const TaskResults& by_task, const std::string& key) {
  const auto it = by_task.find(key);
  if (it == by_task.end()) return std::nullopt;
  return it->second.score;
}

std::optional<double> task_extra(const TaskResults& by_task, const std::string& key, const std::string& extra) {
  const auto it = by_task.find(key);
  if (it == by_task.end()) return std::nullopt;
  return number_extra(it->second, extra);
}

std::optional<double> mean_score(const TaskResults& by_task, const std::vector<std::string>& keys) {
  double sum = 0;
  for (const auto& k : keys) {
    const auto s = task_score(by_task, k);
    if (!s) return std::nullopt;
    sum += *s;
  }
  return keys.empty() ? std::nullopt : std::optional<double>(sum / double(keys.size()));
}

std::string seed_cell(const ResultRow& row, const ScoreOf& value) {
  std::vector<double> values;
  for (const auto& [seed, by_task] : row.by_seed) {
    const auto v = value(by_task);
    if (!v) return "-";
    values.push_back(*v);
  }
  if (values.size() <= 1) return format_score(values.empty() ? std::nullopt : std::optional<double>(values[0]));
  return format_mean_sd(values);
}

}  // namespace vlmt

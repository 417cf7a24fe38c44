#include "eval/metrics_log.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "eval/metrics_schema.h"

namespace vlmt {
namespace {

using nlohmann::json;

double metrics_log_number(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j.at(key).is_number())
    throw DataError(cat(where, ": field \"", key, "\" missing or not a number"));
  return j.at(key).get<double>();
}

std::string metrics_log_text(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j.at(key).is_string())
    throw DataError(cat(where, ": field \"", key, "\" missing or not a string"));
  return j.at(key).get<std::string>();
}

template <class T>
void sort_metrics_by_iter(std::vector<T>& v) {
  std::stable_sort(v.begin(), v.end(), [](const T& a, const T& b) { return a.iter < b.iter; });
}

}  // namespace

RunMetrics read_metrics_log(const std::string& path, const std::string& default_name) {
  RunMetrics run;
  run.name = default_name;
  const auto records = read_jsonl(path);
  std::map<std::string, int64_t> logged_updates;
  for (size_t i = 0; i < records.size(); ++i) {
    const json& j = records[i];
    const std::string where = cat(path, " record ", i + 1);
    const char* kind_key = metrics_field::kKind;
    const std::string kind = j.contains(kind_key) && j[kind_key].is_string() ? j[kind_key].get<std::string>() : "";
    if (kind == metrics_kind::kRunInfo) {
      run.info = run_info_from_json(j, where);
      run.name = run.info->run;
      continue;
    }
    if (kind != metrics_kind::kTrain && kind != metrics_kind::kVal && kind != metrics_kind::kDsg) continue;
    const auto iter = static_cast<int64_t>(metrics_log_number(j, metrics_field::kIter, where));
    TaskMetrics& task = run.tasks[metrics_log_text(j, metrics_field::kTask, where)];
    run.last_iter = std::max(run.last_iter, iter);
    if (kind == metrics_kind::kTrain) {
      task.train.push_back({iter, metrics_log_number(j, metrics_field::kLoss, where)});
      if (const char* updates = metrics_field::kUpdates; j.contains(updates) && j[updates].is_number())
        task.updates = std::max(task.updates, j[updates].get<int64_t>());
    } else if (kind == metrics_kind::kVal) {
      ValPoint point{iter, metrics_log_number(j, metrics_field::kScore, where), {}};
      if (const char* metrics = metrics_field::kMetrics; j.contains(metrics) && j[metrics].is_object())
        for (const auto& [name, value] : j[metrics].items())
          if (value.is_number()) point.metrics[name] = value.get<double>();
      task.val.push_back(std::move(point));
    } else {
      const std::string state = metrics_log_text(j, metrics_field::kState, where);
      if (state != metrics_state::kGo && state != metrics_state::kStop)
        throw DataError(cat(where, ": DSG state must be \"", metrics_state::kGo, "\" or \"", metrics_state::kStop,
                            "\", got \"", state, "\""));
      task.dsg.push_back({iter, state == metrics_state::kGo});
    }
  }
  for (auto& [key, task] : run.tasks) {
    sort_metrics_by_iter(task.train);
    sort_metrics_by_iter(task.val);
    sort_metrics_by_iter(task.dsg);
    if (task.updates == 0) task.updates = static_cast<int64_t>(task.train.size());
  }
  return run;
}

std::vector<DsgInterval> dsg_intervals(const TaskMetrics& task, int64_t last_iter) {
  std::vector<DsgInterval> intervals;
  int64_t begin = task.train.empty() ? 0 : task.train.front().iter;
  if (!task.dsg.empty()) begin = std::min(begin, task.dsg.front().iter);
  bool go = true;
  for (const auto& e : task.dsg) {
    if (e.go == go) continue;  // repeated state: no change
    if (e.iter > begin) intervals.push_back({begin, e.iter, go});
    begin = e.iter;
    go = e.go;
  }
  if (last_iter > begin) intervals.push_back({begin, last_iter, go});
  return intervals;
}

}  // namespace vlmt

#include "eval/results.h"

#include "core/jsonl.h"

#include <fstream>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "eval/metrics_schema.h"

namespace vlmt {
namespace {

using nlohmann::json;

const std::set<std::string> kResultFields = {"kind", "run", "task", "split", "metric", "score", "n"};

template <class T>
T required(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw DataError(cat(where, ": missing field \"", key, "\""));
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw DataError(cat(where, ": field \"", key, "\" has the wrong type (", j.at(key).dump(), ")"));
  }
}

template <class T>
std::optional<T> optional_field(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return required<T>(j, key, where);
}

std::ofstream open_out(const std::string& path, std::ios::openmode mode) {
  std::ofstream out(path, mode);
  if (!out) throw DataError(cat("cannot open ", path, " for writing"));
  return out;
}

void check_written(std::ofstream& out, const std::string& path) {
  out.flush();
  if (!out) throw DataError(cat("error while writing ", path));
}

void append_line(const std::string& path, const json& j) {
  auto out = open_out(path, std::ios::app);
  out << j.dump() << '\n';
  check_written(out, path);
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(cat("cannot open ", path));
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw DataError(cat(path, ": malformed JSON: ", e.what()));
  }
}

json expect_array(const json& j, const std::string& path) {
  if (!j.is_array()) throw DataError(cat(path, ": expected a JSON list"));
  return j;
}

}  // namespace

json to_json(const ResultRecord& r) {
  json j = {{"run", r.run},       {"task", r.task}, {"split", r.split},
            {"metric", r.metric}, {"score", r.score}, {"n", r.n}};
  for (const auto& [key, value] : r.extras.items())
    if (!kResultFields.count(key)) j[key] = value;
  return j;
}

json to_json(const RunInfo& info) {
  json j = {{metrics_field::kKind, metrics_kind::kRunInfo}, {"run", info.run}};
  if (!info.setting.empty()) j["setting"] = info.setting;
  if (info.params) j["params"] = *info.params;
  if (info.models) j["models"] = *info.models;
  if (info.dsg_gap) j["dsg_gap"] = *info.dsg_gap;
  if (info.seed) j["seed"] = *info.seed;
  if (!info.task_sizes.empty()) {
    json tasks = json::object();
    for (const auto& [task, size] : info.task_sizes) tasks[task] = size;
    j["tasks"] = tasks;
  }
  if (!info.stage.empty()) j["stage"] = info.stage;
  if (info.world_size) j["world_size"] = *info.world_size;
  if (!info.schedule.empty()) j["schedule"] = info.schedule;
  if (info.total_iterations) j["total_iterations"] = *info.total_iterations;
  if (info.start_iteration) j["iter"] = *info.start_iteration;
  return j;
}

std::optional<double> number_extra(const ResultRecord& r, const std::string& key) {
  const auto it = r.extras.find(key);
  if (it == r.extras.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

ResultRecord result_from_json(const json& j, const std::string& where) {
  ResultRecord r;
  r.run = required<std::string>(j, "run", where);
  r.task = required<std::string>(j, "task", where);
  r.split = required<std::string>(j, "split", where);
  r.metric = required<std::string>(j, "metric", where);
  r.score = required<double>(j, "score", where);
  r.n = required<int64_t>(j, "n", where);
  for (const auto& [key, value] : j.items())
    if (!kResultFields.count(key)) r.extras[key] = value;
  return r;
}

RunInfo run_info_from_json(const json& j, const std::string& where) {
  RunInfo info;
  info.run = required<std::string>(j, "run", where);
  info.setting = optional_field<std::string>(j, "setting", where).value_or("");
  info.params = optional_field<int64_t>(j, "params", where);
  info.models = optional_field<int64_t>(j, "models", where);
  info.dsg_gap = optional_field<int64_t>(j, "dsg_gap", where);
  info.seed = optional_field<int64_t>(j, "seed", where);
  if (j.contains("tasks")) {
    if (!j.at("tasks").is_object())
      throw DataError(cat(where, ": field \"tasks\" must be an object {task: train size}"));
    for (const auto& [task, size] : j.at("tasks").items()) {
      if (!size.is_number_integer())
        throw DataError(cat(where, ": train size of task \"", task, "\" is not an integer"));
      info.task_sizes.emplace_back(task, size.get<int64_t>());
    }
  }
  info.stage = optional_field<std::string>(j, "stage", where).value_or("");
  info.world_size = optional_field<int64_t>(j, "world_size", where);
  info.schedule = optional_field<std::string>(j, "schedule", where).value_or("");
  info.total_iterations = optional_field<int64_t>(j, "total_iterations", where);
  info.start_iteration = optional_field<int64_t>(j, "iter", where);
  return info;
}

void append_result(const std::string& path, const ResultRecord& record) {
  append_line(path, to_json(record));
}

void append_run_info(const std::string& path, const RunInfo& info) {
  append_line(path, to_json(info));
}

ResultsFile read_results_file(const std::string& path) {
  ResultsFile file;
  file.path = path;
  const auto records = read_jsonl(path);
  for (size_t i = 0; i < records.size(); ++i) {
    const json& j = records[i];
    const std::string where = cat(path, " record ", i + 1);
    const char* kind_key = metrics_field::kKind;
    const std::string kind = j.contains(kind_key) && j[kind_key].is_string() ? j[kind_key].get<std::string>() : "result";
    if (kind == "result") file.results.push_back(result_from_json(j, where));
    else if (kind == metrics_kind::kRunInfo) file.info = run_info_from_json(j, where);
  }
  return file;
}

void write_vqa_submission(const std::string& path,
                          const std::vector<std::pair<int64_t, std::string>>& answers) {
  json list = json::array();
  for (const auto& [id, answer] : answers) list.push_back({{"question_id", id}, {"answer", answer}});
  auto out = open_out(path, std::ios::trunc);
  out << list.dump() << '\n';
  check_written(out, path);
}

std::vector<std::pair<int64_t, std::string>> read_vqa_submission(const std::string& path) {
  std::vector<std::pair<int64_t, std::string>> answers;
  const json list = expect_array(read_json_file(path), path);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = cat(path, " entry ", i);
    answers.emplace_back(required<int64_t>(list[i], "question_id", where),
                         required<std::string>(list[i], "answer", where));
  }
  return answers;
}

void write_gqa_submission(const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& predictions) {
  json list = json::array();
  for (const auto& [id, prediction] : predictions)
    list.push_back({{"questionId", id}, {"prediction", prediction}});
  auto out = open_out(path, std::ios::trunc);
  out << list.dump() << '\n';
  check_written(out, path);
}

std::vector<std::pair<std::string, std::string>> read_gqa_submission(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> predictions;
  const json list = expect_array(read_json_file(path), path);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = cat(path, " entry ", i);
    predictions.emplace_back(required<std::string>(list[i], "questionId", where),
                             required<std::string>(list[i], "prediction", where));
  }
  return predictions;
}

void write_nlvr2_predictions(const std::string& path,
                             const std::vector<std::pair<std::string, bool>>& predictions) {
  auto out = open_out(path, std::ios::trunc);
  for (const auto& [id, prediction] : predictions) {
    if (id.find_first_of(",\n\"") != std::string::npos)
      throw DataError(cat("NLVR2 identifier \"", id, "\" cannot be written to CSV unquoted"));
    out << id << ',' << (prediction ? "True" : "False") << '\n';
  }
  check_written(out, path);
}

std::vector<std::pair<std::string, bool>> read_nlvr2_predictions(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(cat("cannot open ", path));
  std::vector<std::pair<std::string, bool>> predictions;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto comma = line.rfind(',');
    const std::string value = comma == std::string::npos ? "" : line.substr(comma + 1);
    if (value != "True" && value != "False")
      throw DataError(cat(path, ":", number, ": expected \"identifier,True|False\", got \"", line, "\""));
    predictions.emplace_back(line.substr(0, comma), value == "True");
  }
  return predictions;
}

void write_predictions_jsonl(const std::string& path, const std::vector<json>& items) {
  auto out = open_out(path, std::ios::trunc);
  for (const auto& item : items) out << item.dump() << '\n';
  check_written(out, path);
}

}  // namespace vlmt

#include "eval/tables.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "eval/mt_vgc_results.h"
#include "eval/svg_plot.h"
#include "tasks/task_table.h"

#include <toml++/toml.h>

namespace vlmt {
namespace {

using TaskResults = std::map<std::string, ResultRecord>;  // task key -> its main result

// One table row: the merged results of the runs that share a label, per training seed (runs
// without a seed count as one seed). Parameters and models count the runs of one seed.
struct Row {
  std::string label;
  std::map<int64_t, TaskResults> by_seed;
  std::set<std::string> runs;
  std::optional<int64_t> params = 0;            // nullopt once a run lacks "params"
  int64_t models = 0;
  std::optional<int64_t> counted_seed;          // the seed whose runs params/models count
  const TaskResults& first() const {
    static const TaskResults none;
    return by_seed.empty() ? none : by_seed.begin()->second;
  }
};

void merge_file(Row& row, const ResultsFile& file) {
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
      spec = &task_by_key(r.task);
    } catch (const ConfigError&) {
      log::warn(cat(file.path, ": result for unknown task \"", r.task, "\" ignored in tables"));
      continue;
    }
    // A split without labels (VQA test-dev) has a submission file, not a score: "-".
    if (r.extras.value("has_ground_truth", true) == false) continue;
    if (r.metric == spec->metric) by_task[spec->key] = r;
  }
}

std::string row_label(const ResultsFile& file) {
  if (file.info && !file.info->setting.empty()) return file.info->setting;
  if (file.info) return file.info->run;
  if (!file.results.empty()) return file.results.front().run;
  return file.path;
}

// Rows in order of first appearance of their label.
std::vector<Row> rows_by_setting(const std::vector<ResultsFile>& files) {
  std::vector<Row> rows;
  for (const auto& file : files) {
    const std::string label = row_label(file);
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.label == label; });
    if (it == rows.end()) {
      rows.push_back(Row{});
      rows.back().label = label;
      it = rows.end() - 1;
    }
    merge_file(*it, file);
  }
  return rows;
}

std::optional<double> task_score(const TaskResults& by_task, const std::string& key) {
  const auto it = by_task.find(key);
  if (it == by_task.end()) return std::nullopt;
  return it->second.score;
}

std::optional<double> task_extra(const TaskResults& by_task, const std::string& key, const char* extra) {
  const auto it = by_task.find(key);
  if (it == by_task.end()) return std::nullopt;
  return number_extra(it->second, extra);
}

std::optional<double> mean_of(const TaskResults& by_task, const std::vector<std::string>& keys) {
  double sum = 0;
  for (const auto& k : keys) {
    const auto s = task_score(by_task, k);
    if (!s) return std::nullopt;
    sum += *s;
  }
  return keys.empty() ? std::nullopt : std::optional<double>(sum / double(keys.size()));
}

// A cell of a row: `value` of each seed's results; "-" when a seed lacks it, the value for one
// seed, "mean ± sd" (sample standard deviation) over several.
std::string cell(const Row& row, const std::function<std::optional<double>(const TaskResults&)>& value) {
  std::vector<double> values;
  for (const auto& [seed, by_task] : row.by_seed) {
    const auto v = value(by_task);
    if (!v) return "-";
    values.push_back(*v);
  }
  if (values.size() <= 1) return format_score(values.empty() ? std::nullopt : std::optional<double>(values[0]));
  return format_mean_sd(values);
}

// The chance levels of the tasks ("chance" of the result records, the first one found per
// task): a row printed under the runs so every score is read against its chance.
std::optional<Row> chance_row(const std::vector<Row>& rows) {
  Row chance;
  chance.label = "chance (uniform choice / answer prior)";
  chance.params = std::nullopt;
  TaskResults& levels = chance.by_seed[0];
  for (const auto& row : rows)
    for (const auto& [key, record] : row.first())
      if (const auto level = number_extra(record, "chance"); level && !levels.count(key)) {
        ResultRecord entry = record;
        entry.score = *level;
        levels[key] = entry;
      }
  if (levels.empty()) return std::nullopt;
  return chance;
}

std::vector<std::string> all_task_keys() {
  std::vector<std::string> keys;
  for (const auto& t : all_tasks()) keys.push_back(t.key);
  return keys;
}

std::string group_name(int g) { return cat("G", g); }

}  // namespace

std::string format_score(const std::optional<double>& score) {
  if (!score) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *score);
  return buf;
}

std::string format_mean_sd(const std::vector<double>& values) {
  if (values.empty()) return "-";
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size() - 1)) : 0.0;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.2f ± %.2f", mean, sd);
  return buf;
}

std::string format_params(int64_t params) {
  const double p = static_cast<double>(params);
  const auto scaled = [](double v, const char* unit) {
    char buf[32];
    if (v >= 100 || std::abs(v - std::round(v)) < 0.05) std::snprintf(buf, sizeof buf, "%.0f%s", v, unit);
    else std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
    return std::string(buf);
  };
  if (p >= 1e9) return scaled(p / 1e9, "B");
  if (p >= 1e6) return scaled(p / 1e6, "M");
  if (p >= 1e3) return scaled(p / 1e3, "K");
  return std::to_string(params);
}

TextTable make_table2(const std::vector<ResultsFile>& files) {
  TextTable table;
  table.title = "Table 2: per-task scores (retrieval: image retrieval R@1)";
  table.header = {"Run"};
  for (const auto& key : all_task_keys()) table.header.push_back(task_by_key(key).column);
  for (int g = 1; g <= 4; ++g) table.header.push_back(group_name(g));
  table.header.push_back("# params (# models)");
  table.header.push_back("All Tasks Average");
  auto rows = rows_by_setting(files);
  if (auto chance = chance_row(rows)) rows.push_back(std::move(*chance));
  for (const Row& row : rows) {
    std::vector<std::string> cells = {row.label};
    for (const auto& key : all_task_keys())
      cells.push_back(cell(row, [&](const TaskResults& r) { return task_score(r, key); }));
    for (int g = 1; g <= 4; ++g) cells.push_back(cell(row, [&](const TaskResults& r) { return mean_of(r, task_keys_in_group(g)); }));
    cells.push_back(row.params ? cat(format_params(*row.params), " (", row.models, ")") : "-");
    cells.push_back(cell(row, [&](const TaskResults& r) { return mean_of(r, all_task_keys()); }));
    table.rows.push_back(std::move(cells));
  }
  return table;
}

TextTable make_table6(const std::vector<ResultsFile>& files) {
  TextTable table;
  table.title = "Table 6: group averages (G2 over image retrieval R@1)";
  table.header = {"Run", "G1", "G2", "G3", "G4", "All Tasks Average"};
  auto rows = rows_by_setting(files);
  if (auto chance = chance_row(rows)) rows.push_back(std::move(*chance));
  for (const Row& row : rows) {
    std::vector<std::string> cells = {row.label};
    for (int g = 1; g <= 4; ++g) cells.push_back(cell(row, [&](const TaskResults& r) { return mean_of(r, task_keys_in_group(g)); }));
    cells.push_back(cell(row, [&](const TaskResults& r) { return mean_of(r, all_task_keys()); }));
    table.rows.push_back(std::move(cells));
  }
  return table;
}

TextTable make_table11(const std::vector<ResultsFile>& files) {
  // Rows keyed by Δ; files without a gap do not belong to this table.
  std::map<int64_t, std::vector<ResultsFile>> by_gap = {{1, {}}, {4, {}}, {8, {}}, {16, {}}};
  for (const auto& f : files)
    if (f.info && f.info->dsg_gap) by_gap[*f.info->dsg_gap].push_back(f);

  TextTable table;
  table.title = "Table 11: per-task scores for DSG iteration gaps";
  table.header = {"DSG gap", "VQA", "VG QA", "GQA", "Mean G1", "RC R@1", "RC R@5", "RC R@10",
                  "RF R@1", "RF R@5", "RF R@10", "Mean G2 (R1)", "RefCOCO", "RefCOCO+",
                  "RefCOCOg", "Visual 7W", "GuessWhat", "Mean G3", "NLVR2", "SNLI-VE", "Mean G4",
                  "MT Score"};
  for (const auto& [gap, gap_files] : by_gap) {
    Row row;
    row.label = cat("Δ ", gap);
    for (const auto& f : gap_files) merge_file(row, f);
    auto score = [&](const char* key) { return cell(row, [&](const TaskResults& r) { return task_score(r, key); }); };
    auto group = [&](int g) { return cell(row, [&](const TaskResults& r) { return mean_of(r, task_keys_in_group(g)); }); };
    std::vector<std::string> cells = {row.label, score("vqa"), score("vgqa"), score("gqa"), group(1)};
    for (const char* key : {"retrieval_coco", "retrieval_flickr30k"}) {
      cells.push_back(score(key));
      for (const char* extra : {"r5", "r10"})
        cells.push_back(cell(row, [&](const TaskResults& r) { return task_extra(r, key, extra); }));
    }
    cells.push_back(group(2));
    for (const char* key : {"refcoco", "refcoco+", "refcocog", "visual7w", "guesswhat"})
      cells.push_back(score(key));
    cells.push_back(group(3));
    cells.push_back(score("nlvr2"));
    cells.push_back(score("snli_ve"));
    cells.push_back(group(4));
    cells.push_back(cell(row, [&](const TaskResults& r) { return mean_of(r, all_task_keys()); }));
    table.rows.push_back(std::move(cells));
  }
  return table;
}

void apply_runs_file(const std::string& path, std::vector<ResultsFile>& files) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(cat(path, ": ", e.description()));
  }
  for (const auto& [top, node] : doc)
    if (top.str() != "runs") throw ConfigError(cat(path, ": unknown key \"", top.str(), "\" (expected [runs.NAME])"));
  const toml::table* runs = doc["runs"].as_table();
  if (!runs) return;
  for (const auto& [name_key, node] : *runs) {
    const std::string name(name_key.str());
    const toml::table* entry = node.as_table();
    if (!entry) throw ConfigError(cat(path, ": runs.", name, " must be a table"));
    bool found = false;
    for (auto& file : files) {
      const std::string run = file.info ? file.info->run : (file.results.empty() ? "" : file.results.front().run);
      if (run != name) continue;
      found = true;
      if (!file.info) file.info = RunInfo{run};
      for (const auto& [key_node, value] : *entry) {
        const std::string key(key_node.str());
        const std::string where = cat(path, ": runs.", name, ".", key);
        if (key == "setting") {
          if (!value.is_string()) throw ConfigError(cat(where, " must be a string"));
          file.info->setting = *value.value<std::string>();
        } else if (key == "dsg_gap" || key == "models" || key == "seed") {
          if (!value.is_integer()) throw ConfigError(cat(where, " must be an integer"));
          (key == "models" ? file.info->models : key == "seed" ? file.info->seed : file.info->dsg_gap) =
              *value.value<int64_t>();
        } else {
          throw ConfigError(cat(where, ": unknown key (setting, dsg_gap, models, seed)"));
        }
      }
    }
    if (!found) throw ConfigError(cat(path, ": run \"", name, "\" is in none of the results files"));
  }
}

PaperRow read_paper_row(const std::string& path, int row) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(cat(path, ": ", e.description()));
  }
  const toml::array* rows = doc["rows"].as_array();
  if (!rows) throw ConfigError(cat(path, ": no [[rows]] array"));
  std::vector<int64_t> present;
  for (const auto& node : *rows) {
    const toml::table* entry = node.as_table();
    const auto number = entry ? (*entry)["row"].value<int64_t>() : std::nullopt;
    if (!number) throw ConfigError(cat(path, ": every [[rows]] entry needs an integer \"row\""));
    present.push_back(*number);
    if (*number != row) continue;
    const std::string where = cat(path, ": row ", row);
    PaperRow out;
    out.row = row;
    out.source = doc["source"].value_or(std::string("the paper"));
    out.setting = (*entry)["setting"].value_or(std::string());
    out.params = (*entry)["params"].value_or(std::string("-"));
    out.average = (*entry)["average"].value<double>();
    const toml::table* scores = (*entry)["scores"].as_table();
    if (!scores) throw ConfigError(cat(where, ": \"scores\" must be a table of task = score"));
    for (const auto& [key, value] : *scores) {
      const auto score = value.value<double>();
      if (!score) throw ConfigError(cat(where, ": scores.", key.str(), " must be a number"));
      out.scores[task_by_key(std::string(key.str())).key] = *score;  // ConfigError for unknown keys
    }
    return out;
  }
  std::string rows_text;
  for (auto n : present) rows_text += cat(rows_text.empty() ? "" : ", ", n);
  throw ConfigError(cat(path, ": no row ", row, " (rows: ", rows_text, ")"));
}

TextTable make_table2_vs_paper(const std::vector<ResultsFile>& files, const PaperRow& paper) {
  TextTable table = make_table2(files);
  table.title = cat("Table 2: vlmt beside the paper (", paper.source, ", row ", paper.row, ")");
  Row paper_row;
  paper_row.label = cat("paper: row ", paper.row, ", ", paper.setting);
  TaskResults& printed = paper_row.by_seed[0];
  for (const auto& [key, score] : paper.scores) {
    ResultRecord r;
    r.task = key;
    r.score = score;
    printed[key] = r;
  }
  const auto runs = rows_by_setting(files);
  const TaskResults none;
  const TaskResults& ours = runs.empty() ? none : runs.front().first();
  auto difference = [](const std::optional<double>& a, const std::optional<double>& b) {
    return a && b ? cat(*a >= *b ? "+" : "", format_score(*a - *b)) : std::string("-");
  };
  std::vector<std::string> cells = {paper_row.label}, delta = {cat("Δ ", runs.empty() ? "" : runs.front().label, " − paper")};
  for (const auto& key : all_task_keys()) {
    cells.push_back(cell(paper_row, [&](const TaskResults& r) { return task_score(r, key); }));
    delta.push_back(difference(task_score(ours, key), task_score(printed, key)));
  }
  for (int g = 1; g <= 4; ++g) {
    cells.push_back(cell(paper_row, [&](const TaskResults& r) { return mean_of(r, task_keys_in_group(g)); }));
    delta.push_back(difference(mean_of(ours, task_keys_in_group(g)), mean_of(printed, task_keys_in_group(g))));
  }
  cells.push_back(paper.params);
  delta.push_back("");
  cells.push_back(format_score(paper.average));
  delta.push_back(difference(mean_of(ours, all_task_keys()), paper.average));
  table.rows.push_back(std::move(cells));
  table.rows.push_back(std::move(delta));
  return table;
}

TextTable make_table(int number, const std::vector<ResultsFile>& files) {
  switch (number) {
    case 2: return make_table2(files);
    case 6: return make_table6(files);
    case 11: return make_table11(files);
    default: throw ConfigError(cat("--table must be 2, 6 or 11, got ", number));
  }
}

std::string to_markdown(const TextTable& table) {
  std::string out = cat("**", table.title, "**\n\n|");
  for (const auto& h : table.header) out += cat(" ", h, " |");
  out += "\n|";
  for (size_t i = 0; i < table.header.size(); ++i) out += i == 0 ? "---|" : "---:|";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (const auto& cell : row) out += cat(" ", cell, " |");
    out += "\n";
  }
  return out;
}

std::string to_html(const TextTable& table) {
  std::string out = cat("<table>\n<caption>", xml_escape(table.title), "</caption>\n<thead><tr>");
  for (const auto& h : table.header) out += cat("<th>", xml_escape(h), "</th>");
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (const auto& cell : row) out += cat("<td>", xml_escape(cell), "</td>");
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace vlmt

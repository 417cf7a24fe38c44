#include "eval/html_report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/metrics_log.h"
#include "eval/results.h"
#include "eval/svg_plot.h"
#include "eval/table_layouts.h"

namespace vlmt {
namespace {

namespace fs = std::filesystem;

constexpr double kGoWidth = 7.0, kStopWidth = 1.5;

// Task keys that appear in any run, in the paper's order, unknown keys last (alphabetical).
std::vector<std::string> tasks_in_order(const std::vector<RunMetrics>& runs) {
  std::vector<std::string> seen;
  for (const auto& run : runs)
    for (const auto& [key, m] : run.tasks)
      if (std::find(seen.begin(), seen.end(), key) == seen.end()) seen.push_back(key);
  auto position = [](const std::string& key) {
    const auto& tasks = TaskCatalog::builtin().datasets();
    for (size_t i = 0; i < tasks.size(); ++i)
      if (tasks[i].key == key || tasks[i].name == key) return i;
    return tasks.size();
  };
  std::stable_sort(seen.begin(), seen.end(), [&](const std::string& a, const std::string& b) {
    const size_t pa = position(a), pb = position(b);
    return pa != pb ? pa < pb : a < b;
  });
  return seen;
}

// One plot per further validation metric of the task (pretraining's masked-word accuracy,
// masked-region KL and alignment accuracy), a line per run that logged it.
std::string further_metric_plots(const std::vector<RunMetrics>& runs, const std::string& key, ReportCounts& counts) {
  std::vector<std::string> names;
  for (const auto& run : runs)
    if (const auto it = run.tasks.find(key); it != run.tasks.end())
      for (const auto& p : it->second.val)
        for (const auto& [name, value] : p.metrics)
          if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  std::string html;
  for (const auto& name : names) {
    SvgPlot plot(cat(key, ": validation ", name), "iteration", name);
    for (const auto& run : runs) {
      const auto it = run.tasks.find(key);
      if (it == run.tasks.end()) continue;
      std::vector<double> x, y;
      for (const auto& p : it->second.val)
        if (const auto m = p.metrics.find(name); m != p.metrics.end()) x.push_back(double(p.iter)), y.push_back(m->second);
      if (!x.empty()) plot.add_line(run.name, x, y);
    }
    if (!plot.empty()) html += plot.render(), ++counts.val_plots;
  }
  return html;
}

std::string curves_section(const std::vector<RunMetrics>& runs, ReportCounts& counts) {
  std::string html = "<h2>Training loss and validation score per task</h2>\n<div class=\"grid\">\n";
  for (const auto& key : tasks_in_order(runs)) {
    SvgPlot loss(cat(key, ": training loss"), "iteration", "loss");
    SvgPlot val(cat(key, ": validation score"), "iteration", "score");
    for (const auto& run : runs) {
      const auto it = run.tasks.find(key);
      if (it == run.tasks.end()) continue;
      std::vector<double> x, y;
      for (const auto& p : it->second.train) x.push_back(double(p.iter)), y.push_back(p.loss);
      loss.add_line(run.name, x, y);
      x.clear(), y.clear();
      for (const auto& p : it->second.val) x.push_back(double(p.iter)), y.push_back(p.score);
      val.add_line(run.name, x, y);
    }
    if (!loss.empty()) html += loss.render(), ++counts.loss_plots;
    if (!val.empty()) html += val.render(), ++counts.val_plots;
    html += further_metric_plots(runs, key, counts);
  }
  return html + "</div>\n";
}

std::string timeline_section(const std::vector<RunMetrics>& runs, ReportCounts& counts) {
  std::string html = "<h2>Dynamic stop-and-go timeline (thick: go, thin: stop)</h2>\n";
  for (const auto& run : runs) {
    std::vector<std::string> keys;
    for (const auto& key : tasks_in_order({run}))
      if (!run.tasks.at(key).dsg.empty()) keys.push_back(key);
    if (keys.empty()) continue;
    SvgPlot plot(cat(run.name, ": DSG states"), "iteration", "",
                 720, 80 + 28 * static_cast<int>(keys.size() + 1));  // 80 = title + axis margins
    plot.set_legend(false);
    std::vector<std::pair<double, std::string>> categories;
    for (size_t i = 0; i < keys.size(); ++i) {
      const double y = double(keys.size() - i);  // first task on top
      categories.emplace_back(y, keys[i]);
      for (const auto& iv : dsg_intervals(run.tasks.at(keys[i]), run.last_iter))
        plot.add_segment(keys[i], double(iv.begin), double(iv.end), y, iv.go ? kGoWidth : kStopWidth);
    }
    plot.set_y_categories(categories);
    html += plot.render();
    ++counts.timeline_plots;
  }
  return html;
}

std::string scatter_section(const std::vector<RunMetrics>& runs, ReportCounts& counts) {
  std::string html = "<h2>Dataset size vs active updates</h2>\n";
  for (const auto& run : runs) {
    if (!run.info || run.info->task_sizes.empty()) continue;
    SvgPlot plot(cat(run.name, ": training set size vs updates"), "training set size (log)",
                 "updates");
    plot.set_log_x(true);
    plot.set_legend(false);
    std::vector<double> x, y;
    std::vector<std::string> labels;
    for (const auto& [key, size] : run.info->task_sizes) {
      const auto it = run.tasks.find(key);
      x.push_back(double(size));
      y.push_back(it == run.tasks.end() ? 0.0 : double(it->second.updates));
      labels.push_back(key);
    }
    plot.add_scatter("tasks", x, y, labels);
    html += plot.render();
    ++counts.scatter_plots;
  }
  return html;
}

std::string tables_section(const std::vector<ResultsFile>& results, ReportCounts& counts) {
  if (results.empty()) return "<h2>Results</h2>\n<p>No results.jsonl in these runs.</p>\n";
  std::string html = "<h2>Results</h2>\n";
  for (int number : {2, 6, 11}) {
    const bool has_gap = std::any_of(results.begin(), results.end(),
                                     [](const ResultsFile& f) { return f.info && f.info->dsg_gap; });
    if (number == 11 && !has_gap) continue;
    html += to_html(make_table(number, results));
    ++counts.tables;
  }
  return html;
}

const char* kStyle =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:12px}"
    "td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
    "caption{font-weight:bold;text-align:left}"
    ".grid svg{display:inline-block;margin:4px}";

}  // namespace

std::string render_report(const std::vector<std::string>& run_dirs, ReportCounts* counts_out) {
  if (run_dirs.empty()) throw ConfigError("report: no run directory given");
  std::vector<RunMetrics> runs;
  std::vector<ResultsFile> results;
  for (const auto& dir : run_dirs) {
    const fs::path metrics = fs::path(dir) / "metrics.jsonl";
    if (!fs::exists(metrics)) throw DataError(cat("report: ", metrics.string(), " does not exist"));
    const std::string name = fs::path(dir).lexically_normal().filename().string();
    runs.push_back(read_metrics_log(metrics.string(), name.empty() ? dir : name));
    fs::path res = fs::path(dir) / "results.jsonl";
    if (!fs::exists(res)) res = fs::path(dir) / "eval_val" / "results.jsonl";  // evaluate's default
    if (fs::exists(res)) {
      results.push_back(read_results_file(res.string()));
      if (!results.back().info && runs.back().info) results.back().info = runs.back().info;
    }
  }
  ReportCounts counts;
  std::string body = curves_section(runs, counts) + timeline_section(runs, counts) +
                     scatter_section(runs, counts) + tables_section(results, counts);
  std::string runs_list;
  for (const auto& run : runs) runs_list += cat(runs_list.empty() ? "" : ", ", run.name);
  if (counts_out) *counts_out = counts;
  return cat("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>vlmt report</title>\n<style>",
             kStyle, "</style>\n</head>\n<body>\n<h1>vlmt report: ", xml_escape(runs_list),
             "</h1>\n", body, "</body>\n</html>\n");
}

ReportCounts write_report(const std::vector<std::string>& run_dirs, const std::string& out_path) {
  ReportCounts counts;
  const std::string html = render_report(run_dirs, &counts);
  std::ofstream out(out_path, std::ios::trunc);
  if (!out) throw DataError(cat("report: cannot open ", out_path, " for writing"));
  out << html;
  out.flush();
  if (!out) throw DataError(cat("report: error while writing ", out_path));
  return counts;
}

}  // namespace vlmt

#pragma once
// One self-contained HTML page for one or more run directories (no network, no external JS or
// CSS): per-task training-loss and validation-score curves over iterations (one SVG each, one
// line per run), the DSG go/stop timeline of each run (thick = go, thin = stop), dataset size vs
// active updates per task of each run (log-x scatter), and Tables 2, 6 and 11 of the runs'
// results.jsonl files. Each run directory holds metrics.jsonl (required) and results.jsonl
// (optional; else the one `evaluate` writes by default, eval_val/results.jsonl).
#include <string>
#include <vector>

namespace vlmt {

struct ReportCounts {
  int loss_plots = 0, val_plots = 0, timeline_plots = 0, scatter_plots = 0, tables = 0;
  int svg_total() const { return loss_plots + val_plots + timeline_plots + scatter_plots; }
};

// Throws DataError naming the file when a run directory lacks metrics.jsonl or a file is bad.
std::string render_report(const std::vector<std::string>& run_dirs, ReportCounts* counts = nullptr);
// Renders and writes the page; throws DataError when `out_path` cannot be written.
ReportCounts write_report(const std::vector<std::string>& run_dirs, const std::string& out_path);

}  // namespace vlmt

#pragma once
// The paper's result tables built only from results.jsonl files (never typed-in numbers):
//   Table 2  per-task scores (paper column order), group means G1..G4, "# params (# models)",
//            all-tasks average; one row per setting (run_info "setting", else the run name);
//            runs with the same setting are merged (e.g. 12 single-task runs -> one ST row,
//            parameters and models summed).
//   Table 6  the same rows, columns G1..G4 averages and the all-tasks average.
//   Both end with a row of chance levels when the records carry them ("chance", written by
//   evaluate: uniform choice, or the answer prior for the kinds that answer from a fixed set).
//   Table 11 one row per DSG iteration gap Δ (run_info "dsg_gap"; rows 1, 4, 8, 16 always, plus
//            any other gap found), full per-task breakdown incl. retrieval R@1/5/10.
// A task's score is its result record whose metric is the task's metric (task_table.h) — for
// retrieval "recall@1" with extras r5/r10; when a row has several, the last one read wins.
// Missing entries, and means over incomplete groups, are "-".
// Seeds: runs of one row with different seeds (run_info "seed", written by the trainer and
// evaluate from train.seed) give "mean ± sd" over the seeds in every cell (group means and the
// average computed per seed first); a cell any seed lacks is "-".
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eval/results.h"

namespace vlmt {

struct TextTable {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// "72.57" or "-".
std::string format_score(const std::optional<double>& score);
// "72.57 ± 0.31": mean and sample standard deviation (0 for one value); "-" for none.
std::string format_mean_sd(const std::vector<double>& values);
// 270000000 -> "270M", 3000000000 -> "3B", 1080000000 -> "1.1B", 86000 -> "86K".
std::string format_params(int64_t params);

TextTable make_table2(const std::vector<ResultsFile>& files);
TextTable make_table6(const std::vector<ResultsFile>& files);
TextTable make_table11(const std::vector<ResultsFile>& files);
// Optional runs file (TOML) labelling runs whose results.jsonl has no run_info, or overriding it:
//   [runs."<run name>"]
//   setting = "AT"      # row label
//   dsg_gap = 4         # Table 11 row
//   models = 1
//   seed = 2            # the run's training seed (overrides run_info)
// Only labels and structure, never scores. Throws ConfigError naming the file and key on
// unknown keys or wrong types; runs named there but absent from `files` are an error too.
void apply_runs_file(const std::string& path, std::vector<ResultsFile>& files);

// 2, 6 or 11; throws ConfigError otherwise.
TextTable make_table(int number, const std::vector<ResultsFile>& files);

// One row of the paper's Table 2 as printed (configs/paper/table2.toml): the only place its
// numbers are typed in, each cited by table and row.
struct PaperRow {
  int row = 0;
  std::string setting;
  std::string params;                    // "270M (1)"
  std::map<std::string, double> scores;  // task key -> score; absent = "-" in the paper
  std::optional<double> average;         // "All Tasks Average"
  std::string source;                    // "Lu et al., CVPR 2020, Table 2"
};
// Throws ConfigError naming the file and key on a malformed file or an absent row.
PaperRow read_paper_row(const std::string& path, int row);
// Table 2 with two more rows under those of `files`: the paper's row and "Δ vs paper" (the
// first run row minus the paper, per task and on the average; "-" where either is missing).
// Group means of the paper row are computed from its printed scores.
TextTable make_table2_vs_paper(const std::vector<ResultsFile>& files, const PaperRow& paper);

std::string to_markdown(const TextTable& table);
std::string to_html(const TextTable& table);

}  // namespace vlmt

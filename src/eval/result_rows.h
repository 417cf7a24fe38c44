#pragma once
// Result merging for the tables (eval/table_layouts.h): the results.jsonl files of several runs
// become rows. One row per setting (run_info "setting", else the run name); runs with the same
// setting are merged (e.g. 12 single-task runs -> one ST row, parameters and models summed).
// A task's entry is its result record whose metric is the task's metric (the task catalogue,
// catalog/task_catalog.h); when a row has several, the last one read wins.
// Seeds: runs of one row with different seeds (run_info "seed") are kept apart, and a cell is
// "mean ± sd" over the seeds (seed_cell); a cell any seed lacks is "-".
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "eval/results.h"

namespace vlmt {

using TaskResults = std::map<std::string, ResultRecord>;  // task key -> its main result

// One table row: the merged results of the runs that share a label, per training seed (runs
// without a seed count as one seed). Parameters and models count the runs of one seed.
struct ResultRow {
  std::string label;
  std::map<int64_t, TaskResults> by_seed;
  std::set<std::string> runs;
  std::optional<int64_t> params = 0;    // nullopt once a run lacks "params"
  int64_t models = 0;
  std::optional<int64_t> counted_seed;  // the seed whose runs params/models count
  // The results of the lowest seed (none when the row has no results).
  const TaskResults& first_seed() const;
};

// Adds a file's results to `row` (its seed's entry), and its parameters and models once per run.
void merge_results_file(ResultRow& row, const ResultsFile& file);
// Rows in order of first appearance of their label.
std::vector<ResultRow> rows_by_setting(const std::vector<ResultsFile>& files);
// The chance levels of the tasks ("chance" of the result records, the first one found per task)
// as a row printed under the runs, so every score is read against its chance; none without any.
std::optional<ResultRow> chance_row(const std::vector<ResultRow>& rows);

// Values of one seed's merged results; nullopt when a task (or any task of a mean) is missing.
std::optional<double> task_score(const TaskResults& by_task, const std::string& key);
std::optional<double> task_extra(const TaskResults& by_task, const std::string& key, const std::string& extra);
std::optional<double> mean_score(const TaskResults& by_task, const std::vector<std::string>& keys);

using ScoreOf = std::function<std::optional<double>(const TaskResults&)>;
// The cell of a row: `value` of each seed's results; "-" when a seed lacks it, the value for
// one seed, "mean ± sd" (sample standard deviation) over several.
std::string seed_cell(const ResultRow& row, const ScoreOf& value);

}  // namespace vlmt

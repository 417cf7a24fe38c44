#include "eval/table_layouts.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/result_rows.h"

namespace vlmt {
namespace {

// A column: its heading and its cell of a row; a score's cell is over the row's seeds
// (seed_cell), a column of another kind says its own text.
struct LayoutColumn {
  std::string heading;
  ScoreOf score;                                    // a score for one seed's merged results
  std::function<std::string(const ResultRow&)> text;  // instead of `score`, when set
};

LayoutColumn task_score_column(std::string heading, std::string key) {
  return {std::move(heading), [key](const TaskResults& r) { return task_score(r, key); }, nullptr};
}

LayoutColumn task_extra_column(std::string heading, std::string key, std::string extra) {
  return {std::move(heading), [key, extra](const TaskResults& r) { return task_extra(r, key, extra); }, nullptr};
}

LayoutColumn mean_score_column(std::string heading, std::vector<std::string> keys) {
  return {std::move(heading), [keys](const TaskResults& r) { return mean_score(r, keys); }, nullptr};
}

std::vector<std::string> catalogue_task_keys() {
  std::vector<std::string> keys;
  for (const auto& t : TaskCatalog::builtin().datasets()) keys.push_back(t.key);
  return keys;
}

// Table 2's columns (Table 6 shows its group means and average).
struct Table2Columns {
  std::vector<LayoutColumn> tasks;   // every dataset, catalogue order
  std::vector<LayoutColumn> groups;  // G1..G4 means
  LayoutColumn average;              // over every dataset
};

Table2Columns table2_columns() {
  Table2Columns columns;
  const TaskCatalog& catalog = TaskCatalog::builtin();
  for (const auto& t : catalog.datasets()) columns.tasks.push_back(task_score_column(t.column, t.key));
  for (const auto& g : dataset_groups())
    columns.groups.push_back(mean_score_column(g.column, catalog.keys_in_group(g.group)));
  columns.average = mean_score_column("All Tasks Average", catalogue_task_keys());
  return columns;
}

// Per group: its datasets with a Table 11 column in Table 11's order, each followed by its
// extras, then the group's mean; the MT score last.
std::vector<LayoutColumn> table11_columns() {
  std::vector<LayoutColumn> columns;
  const TaskCatalog& catalog = TaskCatalog::builtin();
  for (const auto& group : dataset_groups()) {
    std::vector<const TaskSpec*> shown;
    for (const auto& t : catalog.datasets())
      if (group_index(t.group) == group.group && t.table11_position >= 0) shown.push_back(&t);
    std::stable_sort(shown.begin(), shown.end(),
                     [](const TaskSpec* a, const TaskSpec* b) { return a->table11_position < b->table11_position; });
    for (const TaskSpec* t : shown) {
      columns.push_back(task_score_column(t->table11_column, t->key));
      for (const auto& extra : t->table11_extras)
        columns.push_back(task_extra_column(extra.heading, t->key, extra.extra));
    }
    columns.push_back(mean_score_column(group.mean_column, catalog.keys_in_group(group.group)));
  }
  columns.push_back(mean_score_column("MT Score", catalogue_task_keys()));
  return columns;
}

void append_layout_headings(std::vector<std::string>& header, const std::vector<LayoutColumn>& columns) {
  for (const auto& c : columns) header.push_back(c.heading);
}

void append_layout_cells(std::vector<std::string>& cells, const ResultRow& row,
                         const std::vector<LayoutColumn>& columns) {
  for (const auto& c : columns) cells.push_back(c.text ? c.text(row) : seed_cell(row, c.score));
}

LayoutColumn params_and_models_column() {
  return {"# params (# models)", nullptr, [](const ResultRow& row) {
            return row.params ? cat(format_params(*row.params), " (", row.models, ")") : std::string("-");
          }};
}

// A table with a row per setting (eval/result_rows.h) and the chance row under them.
TextTable table_by_setting(std::string title, const std::vector<LayoutColumn>& columns,
                           const std::vector<ResultsFile>& files) {
  TextTable table;
  table.title = std::move(title);
  table.header = {"Run"};
  append_layout_headings(table.header, columns);
  auto rows = rows_by_setting(files);
  if (auto chance = chance_row(rows)) rows.push_back(std::move(*chance));
  for (const ResultRow& row : rows) {
    std::vector<std::string> cells = {row.label};
    append_layout_cells(cells, row, columns);
    table.rows.push_back(std::move(cells));
  }
  return table;
}

// The paper's Table 11 rows: these gaps always, others when a run has them.
constexpr int64_t kPaperDsgGaps[] = {1, 4, 8, 16};

}  // namespace

TextTable make_table2(const std::vector<ResultsFile>& files) {
  const Table2Columns parts = table2_columns();
  std::vector<LayoutColumn> columns = parts.tasks;
  columns.insert(columns.end(), parts.groups.begin(), parts.groups.end());
  columns.push_back(params_and_models_column());
  columns.push_back(parts.average);
  return table_by_setting("Table 2: per-task scores (retrieval: image retrieval R@1)", columns, files);
}

TextTable make_table6(const std::vector<ResultsFile>& files) {
  const Table2Columns parts = table2_columns();
  std::vector<LayoutColumn> columns = parts.groups;
  columns.push_back(parts.average);
  return table_by_setting("Table 6: group averages (G2 over image retrieval R@1)", columns, files);
}

TextTable make_table11(const std::vector<ResultsFile>& files) {
  // Rows keyed by Δ; files without a gap do not belong to this table.
  std::map<int64_t, std::vector<ResultsFile>> by_gap;
  for (const int64_t gap : kPaperDsgGaps) by_gap[gap];
  for (const auto& f : files)
    if (f.info && f.info->dsg_gap) by_gap[*f.info->dsg_gap].push_back(f);
  const std::vector<LayoutColumn> columns = table11_columns();
  TextTable table;
  table.title = "Table 11: per-task scores for DSG iteration gaps";
  table.header = {"DSG gap"};
  append_layout_headings(table.header, columns);
  for (const auto& [gap, gap_files] : by_gap) {
    ResultRow row;
    row.label = cat("Δ ", gap);
    for (const auto& f : gap_files) merge_results_file(row, f);
    std::vector<std::string> cells = {row.label};
    append_layout_cells(cells, row, columns);
    table.rows.push_back(std::move(cells));
  }
  return table;
}

TextTable make_table2_vs_paper(const std::vector<ResultsFile>& files, const PaperRow& paper) {
  TextTable table = make_table2(files);
  table.title = cat("Table 2: vlmt beside the paper (", paper.source, ", row ", paper.row, ")");
  ResultRow paper_row;
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
  const TaskResults& ours = runs.empty() ? none : runs.front().first_seed();
  auto difference = [](const std::optional<double>& a, const std::optional<double>& b) {
    return a && b ? cat(*a >= *b ? "+" : "", format_score(*a - *b)) : std::string("-");
  };
  std::vector<std::string> cells = {paper_row.label};
  std::vector<std::string> delta = {cat("Δ ", runs.empty() ? "" : runs.front().label, " − paper")};
  const Table2Columns columns = table2_columns();
  for (const auto* part : {&columns.tasks, &columns.groups})
    for (const auto& c : *part) {
      cells.push_back(seed_cell(paper_row, c.score));
      delta.push_back(difference(c.score(ours), c.score(printed)));
    }
  cells.push_back(paper.params);
  delta.push_back("");
  cells.push_back(format_score(paper.average));
  delta.push_back(difference(columns.average.score(ours), paper.average));
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

}  // namespace vlmt

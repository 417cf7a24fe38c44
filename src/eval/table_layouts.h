#pragma once
// The paper's result tables built only from results.jsonl files (never typed-in numbers), their
// columns derived from the task catalogue (catalog/task_catalog.h: datasets, groups, headings):
//   Table 2  per-task scores (catalogue order, `column` headings), group means G1..G4,
//            "# params (# models)", all-tasks average; one row per setting (eval/result_rows.h).
//   Table 6  the same rows, columns G1..G4 averages and the all-tasks average.
//   Both end with a row of chance levels when the records carry them ("chance", written by
//   evaluate: uniform choice, or the answer prior for the kinds that answer from a fixed set).
//   Table 11 one row per DSG iteration gap Δ (run_info "dsg_gap"; rows 1, 4, 8, 16 always, plus
//            any other gap found); the datasets with a Table 11 column in its order, each with
//            its extras (retrieval R@5, R@10), a mean per group, and the MT score.
// Missing entries, and means over incomplete groups, are "-"; cells over several seeds are
// "mean ± sd" (eval/result_rows.h). Rendering: eval/table_render.h.
#include <vector>

#include "eval/paper_row.h"
#include "eval/results.h"
#include "eval/table_render.h"

namespace vlmt {

TextTable make_table2(const std::vector<ResultsFile>& files);
TextTable make_table6(const std::vector<ResultsFile>& files);
TextTable make_table11(const std::vector<ResultsFile>& files);
// 2, 6 or 11; throws ConfigError otherwise.
TextTable make_table(int number, const std::vector<ResultsFile>& files);

// Table 2 with two more rows under those of `files`: the paper's row and "Δ vs paper" (the
// first run row minus the paper, per task and on the average; "-" where either is missing).
// Group means of the paper row are computed from its printed scores.
TextTable make_table2_vs_paper(const std::vector<ResultsFile>& files, const PaperRow& paper);

}  // namespace vlmt

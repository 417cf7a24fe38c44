#pragma once
// The paper's Table 2 as printed (configs/paper/table2.toml): the only place its numbers are
// typed in, each row cited by table and row. `tables --paper-row N` prints it beside vlmt's
// (eval/table_layouts.h, make_table2_vs_paper).
#include <map>
#include <optional>
#include <string>

namespace vlmt {

struct PaperRow {
  int row = 0;
  std::string setting;
  std::string params;                    // "270M (1)"
  std::map<std::string, double> scores;  // task key -> score; absent = "-" in the paper
  std::optional<double> average;         // "All Tasks Average"
  std::string source;                    // "Lu et al., CVPR 2020, Table 2"
};

// Reads every row of the file (so a mistake anywhere is found) and returns row `row`. Throws
// ConfigError listing every problem with file and key (wrong types, unknown keys or task keys),
// or naming the rows present when `row` is absent.
PaperRow read_paper_row(const std::string& path, int row);

}  // namespace vlmt

#pragma once
// The result tables as text: a table of cells (built by eval/table_layouts.h) and the number
// formats of its cells, rendered as Markdown (`tables`) or HTML (`report`).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// Title in bold, then the table; the first column left-aligned, the others right-aligned.
std::string to_markdown(const TextTable& table);
// A <table> with the title as its caption, every text escaped.
std::string to_html(const TextTable& table);

}  // namespace vlmt

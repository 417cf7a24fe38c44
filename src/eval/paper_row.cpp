#include "eval/paper_row.h"

#include <cstdint>
#include <vector>

#include "catalog/task_catalog.h"
#include "config/toml_reader.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

PaperRow read_printed_paper_row(TomlSection entry, const std::string& source) {
  PaperRow out;
  out.source = source;
  entry.require(entry.has("row"), "row", "missing (every [[rows]] entry has its row number)");
  out.row = static_cast<int>(entry.get("row", int64_t{0}));
  out.setting = entry.get("setting", std::string());
  out.params = entry.get("params", std::string("-"));
  if (entry.has("average")) out.average = entry.get("average", 0.0);
  entry.require(entry.has("scores"), "scores", "missing (a table of task = score)");
  TomlSection scores = entry.child("scores");
  for (const auto& key : scores.keys()) {
    const double score = scores.get(key, 0.0);
    try {
      out.scores[builtin_task(key).key] = score;
    } catch (const ConfigError& e) {
      scores.require(false, key, e.what());
    }
  }
  entry.finish();
  return out;
}

}  // namespace

PaperRow read_paper_row(const std::string& path, int row) {
  const toml::table doc = parse_toml_file(path);
  ConfigIssues issues;
  TomlSection root(&doc, "", path, &issues, nullptr);
  const std::string source = root.get("source", std::string("the paper"));
  if (!root.has("rows")) throw ConfigError(cat(path, ": no [[rows]] array"));
  std::vector<PaperRow> rows;
  for (TomlSection& entry : root.array_of_tables("rows")) rows.push_back(read_printed_paper_row(entry, source));
  root.finish();
  issues.throw_if_any();
  std::string rows_text;
  for (const auto& printed : rows) {
    if (printed.row == row) return printed;
    rows_text += cat(rows_text.empty() ? "" : ", ", printed.row);
  }
  throw ConfigError(cat(path, ": no row ", row, " (rows: ", rows_text, ")"));
}

}  // namespace vlmt

// tables: prints the paper's result tables (2, 6, 11) in Markdown from results.jsonl files of
// several runs. Every number comes from the files; missing entries are "-".
//   tables RESULTS.jsonl... [--table 2|6|11] [--runs-file runs.toml]   (default: all tables)
//   tables RESULTS.jsonl... --paper-row N [--paper-file F]   Table 2 beside the paper's row N
#include <cstdio>
#include <filesystem>

#include "config/run_config.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/results.h"
#include "eval/paper_row.h"
#include "eval/runs_file.h"
#include "eval/table_layouts.h"

namespace vlmt::apps::tables {

int run(int argc, char** argv) {
  return vlmt::run_tool([&] {
    const auto args = vlmt::parse_cli(argc, argv, "tables",
                                      "RESULTS.jsonl... [--table 2|6|11] [--runs-file runs.toml] [--paper-row N]",
                                      {vlmt::cli_positional("RESULTS.jsonl", "results files of the runs", 1, -1),
                                       vlmt::cli_text("table", "print only this table", {"2", "6", "11"}),
                                       vlmt::cli_text("runs-file", "TOML labelling runs (setting, dsg_gap, models)"),
                                       vlmt::cli_integer("paper-row", "Table 2 with this row of the paper beside the first run, and the difference", 1, 8),
                                       vlmt::cli_text("paper-file", "the paper's Table 2 (default configs/paper/table2.toml)")});
    std::vector<vlmt::ResultsFile> files;
    for (const auto& path : args.positional) files.push_back(vlmt::read_results_file(path));
    if (args.has("runs-file")) vlmt::apply_runs_file(args.get("runs-file"), files);
    if (args.has("paper-row")) {
      const std::string file = args.has("paper-file") ? args.get("paper-file")
                                                      : (std::filesystem::path(vlmt::find_configs_dir()) / "paper" / "table2.toml").string();
      const auto paper = vlmt::read_paper_row(file, static_cast<int>(args.integer("paper-row", 4)));
      std::printf("%s", vlmt::to_markdown(vlmt::make_table2_vs_paper(files, paper)).c_str());
      return 0;
    }
    std::vector<int> numbers = {2, 6, 11};
    if (args.has("table")) {
      numbers = {static_cast<int>(args.integer("table", 0))};  // one of the declared choices
    }
    for (size_t i = 0; i < numbers.size(); ++i)
      std::printf("%s%s", i ? "\n" : "", vlmt::to_markdown(vlmt::make_table(numbers[i], files)).c_str());
    return 0;
  });
}

}  // namespace vlmt::apps::tables

// verify_data: checks a data root before a run (jobs/verify_data_root.h: vocabulary, feature
// files, annotation lines, referenced images). Prints what is wrong per task; exit 3 if anything
// is, else 0.
#include <iostream>
#include <sstream>

#include "core/cli.h"
#include "core/error.h"
#include "jobs/verify_data_root.h"

namespace vlmt::apps::verify_data {

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int run(int argc, char** argv) {
  using namespace vlmt;
  return run_tool([&] {
    auto args = parse_cli(argc, argv, "verify_data", "--root DIR [--tasks a,b] [--config RUN.toml] [--set ...]",
                          {cli_text("root", "data root to check"),
                           cli_text("tasks", "comma-separated task keys (and/or 'pretrain'); default: all present"),
                           cli_text("config", "run file whose tasks.<key>.features / gt_features name the feature "
                                              "files (default: each task's own)"),
                           cli_set()});
    if (!args.has("root")) throw ConfigError("verify_data needs --root DIR");
    DataRootCheckOptions options;
    options.root = args.get("root");
    if (args.has("tasks")) options.task_keys = split_commas(args.get("tasks"));
    options.config_file = args.get("config", "");
    options.overrides = args.overrides;
    const DataRootReport report = verify_data_root(options, std::cout);
    return report.ok() ? 0 : static_cast<int>(ExitCode::kData);
  });
}

}  // namespace vlmt::apps::verify_data

#pragma once
// The runs file of `tables --runs-file` (TOML) labels runs whose results.jsonl has no run_info,
// or overrides it:
//   [runs."<run name>"]
//   setting = "AT"      # row label
//   dsg_gap = 4         # Table 11 row
//   models = 1
//   seed = 2            # the run's training seed (overrides run_info)
// Only labels and structure, never scores.
#include <string>
#include <vector>

#include "eval/results.h"

namespace vlmt {

// Applies the labels to the files of the runs it names. Throws ConfigError listing every
// problem (file and key: unknown keys, wrong types, runs absent from `files`) before changing
// any file.
void apply_runs_file(const std::string& path, std::vector<ResultsFile>& files);

}  // namespace vlmt

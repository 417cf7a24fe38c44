#pragma once
// The checks of `verify_data` (src/apps/verify_data.cpp): a data root before a run — vocabulary
// present, feature files readable and of one feature dimension, every annotation line
// well-formed (each task's kind checks its own schema and side files) and every referenced
// image present in the feature file(s) its task reads.
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vlmt {

struct DataRootCheckOptions {
  std::string root;
  // Task keys (and/or "pretrain") to check; unset: every task with an annotations/<key>/ folder.
  std::optional<std::vector<std::string>> task_keys;
  // Run file whose tasks.<key>.features / gt_features name the feature files ("": each task's
  // own), and --set overrides on it.
  std::string config_file;
  std::vector<std::string> overrides;
};

struct TaskDataProblems {
  std::string key;
  std::vector<std::string> problems;  // empty: the task's data is complete
};

struct DataRootReport {
  bool vocab_ok = false;
  bool no_tasks_found = false;  // no task keys given and no annotation folder found
  std::vector<TaskDataProblems> tasks;  // in the order checked
  std::map<int64_t, std::vector<std::string>> feature_dims;  // dimension -> feature files opened
  bool ok() const;
};

// Checks the root and writes each finding to `out` as it is made ("vocab: ...", "task <key>: OK"
// or its problems, disagreeing feature dimensions, then "data root OK" / "data root has
// problems"). Throws DataError when the root is not a directory, ConfigError for an unknown task
// key or a bad run file; everything else wrong with the data is reported, not thrown.
DataRootReport verify_data_root(const DataRootCheckOptions& options, std::ostream& out);

}  // namespace vlmt

#pragma once
// Reader of a run's metrics.jsonl (written by the trainer; names: eval/metrics_schema.h), for the
// report. Record kinds used:
//   {"kind":"train","iter","task","loss", ...}          one per logged training step of a task
//   {"kind":"val","iter","task","epoch","score"[,"metrics":{name: value}]}  one per validation
//   {"kind":"dsg","iter","task","state":"go"|"stop","best"}  one per DSG state change
//   {"kind":"run_info","run","params","tasks":{task: train_size}, ...}
// Unknown kinds and unknown fields are ignored so the trainer can log more without breaking it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eval/results.h"

namespace vlmt {

struct TrainPoint {
  int64_t iter;
  double loss;
};
struct ValPoint {
  int64_t iter;
  double score;
  std::map<std::string, double> metrics;  // the kind's further metrics (pretraining), if logged
};
struct DsgMark {
  int64_t iter;
  bool go;
};

struct TaskMetrics {
  std::vector<TrainPoint> train;  // sorted by iter
  std::vector<ValPoint> val;      // sorted by iter
  std::vector<DsgMark> dsg;      // sorted by iter
  // Updates the task received: the largest "updates" field of its train records when the
  // trainer logs one, otherwise the number of its train records.
  int64_t updates = 0;
};

struct RunMetrics {
  std::string name;                         // run_info "run", else the directory name
  std::map<std::string, TaskMetrics> tasks; // by task key as logged
  std::optional<RunInfo> info;
  int64_t last_iter = 0;                    // largest iter of any record
};

// Throws DataError naming file:line for malformed lines or records missing required fields.
RunMetrics read_metrics_log(const std::string& path, const std::string& default_name);

// Go/stop intervals of one task for the timeline: [begin, end) with the state. A task starts in
// go at iteration `start` (its first train record, else 0) and ends at `last_iter`.
struct DsgInterval {
  int64_t begin, end;
  bool go;
};
std::vector<DsgInterval> dsg_intervals(const TaskMetrics& task, int64_t last_iter);

}  // namespace vlmt

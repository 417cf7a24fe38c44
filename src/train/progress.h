#pragma once
// Progress reporting: the human-readable line printed every train.log_every iterations and the
// records of metrics.jsonl (names: eval/metrics_schema.h, meanings: docs/TRAINING.md; other tools
// read it, keep it stable).
// Every record has "kind", "iter" and "time" (Unix seconds); absent numbers are null.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/dsg.h"

namespace vlmt {

using NamedValues = std::vector<std::pair<std::string, double>>;

struct TaskProgress {
  std::string task;
  std::optional<double> loss;         // mean training loss since the last report
  std::optional<double> score;        // latest validation score
  std::string state;                  // schedule label: go / stop / wait
  std::optional<double> batch_score;  // mean score of the training batches since the last report
  NamedValues losses;                 // mean of each loss term since the last report (pretraining)
};

// One validation of a task: means over its split, all ranks together.
struct ValidationSummary {
  double score = 0;
  double loss = 0;
  NamedValues metrics;  // the kind's further metrics (pretraining: masked-word accuracy, ...)
  NamedValues losses;   // the kind's loss terms (TaskKind::loss_part_names)
};

struct ProgressSnapshot {
  int64_t iteration = 0;  // completed iterations
  int64_t total = 0;
  double lr = 0.0;        // base LR × schedule factor
  double samples_per_s = 0.0;
  std::optional<double> eta_s;
  std::vector<TaskProgress> tasks;
  // Seconds per iteration by phase since the last report, mean over ranks (train/phase_times.h).
  std::vector<std::pair<std::string, double>> time_split;
};

// Measures throughput and ETA from the iterations this process has run (a resumed run does not
// count the time before the restart). Times are seconds from any fixed origin.
class ThroughputMeter {
 public:
  ThroughputMeter(int64_t start_iteration, double start_time_s);
  void update(int64_t iteration, int64_t samples, double now_s);  // samples since last update
  double samples_per_s() const;
  std::optional<double> eta_s(int64_t total) const;  // none before the first iteration

 private:
  int64_t start_iteration_;
  double start_time_s_;
  int64_t iteration_;
  int64_t samples_ = 0;
  double now_s_;
};

double unix_time_s();
// "h:mm:ss" (hours unbounded); "-:--:--" for a negative or non-finite duration.
std::string format_duration(double seconds);
// e.g. "iter 120/4000 (3.0%) | lr 1.20e-05 | 85.3 samples/s | ETA 1:02:03 |
//       vqa loss 2.3140 score 0.4120 go | refcoco loss - score - stop |
//       s/iter data 0.002 forward 0.310 backward 0.540 sync 0.012 optimizer 0.041 validation 0.020 other 0.003"
std::string format_progress_line(const ProgressSnapshot& snapshot);

nlohmann::json progress_record(const ProgressSnapshot& snapshot);
// Loss terms go under "losses": {name: value} (none when the kind has one term).
nlohmann::json train_record(int64_t iteration, const TaskProgress& task, double lr, double samples_per_s);
// Further metrics of the task's kind (pretraining: masked-word accuracy, masked-region KL,
// alignment accuracy) go under "metrics": {name: value}, its loss terms under "losses".
nlohmann::json val_record(int64_t iteration, const std::string& task, int64_t epoch, const ValidationSummary& v);
// e.g. "val pretrain at iter 100: score 0.8125 | masked_word_accuracy 0.4211 | masked_region_kl 1.2034"
std::string format_validation_line(int64_t iteration, const std::string& task, double score,
                                   const NamedValues& metrics);
nlohmann::json dsg_record(const std::string& task, const DsgEvent& event);
nlohmann::json dsg_reset_record(int64_t iteration, int64_t epoch);  // every monitor reset

}  // namespace vlmt

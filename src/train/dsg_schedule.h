#pragma once
// dsg (default): round robin + Dynamic Stop-and-Go per task (train/dsg.h). A task in go has
// weight 1 every iteration; a stopped task weight 1 on iterations i with (i − 1) mod Δ = 0
// (released: 0-based iterId mod Δ = 0), else 0.
// Every validation writes a `dsg` record; a switch between go and stop also writes a log line.
#include <vector>

#include "train/dsg.h"
#include "train/task_schedule.h"

namespace vlmt {

class DsgSchedule : public TaskSchedule {
 public:
  // `reset_after_epochs`: completed multi-task epochs after which every monitor is reset
  // (train.dsg_reset_after_epochs).
  DsgSchedule(std::vector<ScheduledTask> tasks, DsgOptions options, std::vector<int64_t> reset_after_epochs = {});
  std::string name() const override { return "dsg"; }
  double weight(size_t task, int64_t iteration) const override;
  // With a communicator set (set_communicator), a collective call: every rank must make it.
  void on_validation(size_t task, int64_t iteration, double score, ScheduleSink& sink) override;
  void on_iteration_end(int64_t iteration, ScheduleSink& sink) override;
  std::string state_label(size_t task, int64_t iteration) const override;
  std::string save_state() const override;
  void load_state(const std::string& blob) override;
  const DsgMonitor& monitor(size_t task) const;

 private:
  std::vector<DsgMonitor> monitors_;
  std::vector<int64_t> reset_after_epochs_;
};

}  // namespace vlmt

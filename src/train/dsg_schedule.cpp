#include "train/dsg_schedule.h"

#include <algorithm>
#include <sstream>

#include "config/run_config.h"
#include "core/error.h"
#include "core/log.h"
#include "train/dsg_agreement.h"
#include "train/progress.h"
#include "train/schedule_registry.h"
#include "train/schedule_state.h"

namespace vlmt {

DsgSchedule::DsgSchedule(std::vector<ScheduledTask> tasks, DsgOptions options, std::vector<int64_t> reset_after_epochs)
    : TaskSchedule(std::move(tasks)), reset_after_epochs_(std::move(reset_after_epochs)) {
  for (const auto& t : tasks_) monitors_.emplace_back(t.key, options);
}

double DsgSchedule::weight(size_t task, int64_t iteration) const {
  check_task(task);
  return monitors_[task].trains_at(iteration) ? 1.0 : 0.0;
}

void DsgSchedule::on_validation(size_t task, int64_t iteration, double score,
                                ScheduleSink& sink) {
  check_task(task);
  DsgMonitor& monitor = monitors_[task];
  const DsgMode before = monitor.mode();
  const DsgEvent event = monitor.observe(iteration, score);
  // Every rank took its decision from the same global score; check that they agree before
  // anything is reported.
  if (comm_ != nullptr) agree_dsg_state(*comm_, monitor.task(), iteration, monitor.state());
  sink.record(dsg_record(monitor.task(), event));
  if (monitor.mode() != before)
    sink.log(cat("DSG ", monitor.task(), ": ", dsg_mode_name(before), " → ",
                 dsg_mode_name(monitor.mode()), " after iteration ", iteration, " (val score ",
                 score, ")"));
}

void DsgSchedule::on_iteration_end(int64_t iteration, ScheduleSink& sink) {
  if (iteration % iterations_per_epoch_ != 0) return;
  const int64_t epoch = iteration / iterations_per_epoch_;
  if (std::find(reset_after_epochs_.begin(), reset_after_epochs_.end(), epoch) == reset_after_epochs_.end()) return;
  for (auto& m : monitors_) m.reset();
  sink.record(dsg_reset_record(iteration, epoch));
  sink.log(cat("DSG: every task back to go, best scores forgotten, after multi-task epoch ", epoch,
               " (iteration ", iteration, ")"));
}

std::string DsgSchedule::state_label(size_t task, int64_t) const {
  check_task(task);
  return dsg_mode_name(monitors_[task].mode());
}

const DsgMonitor& DsgSchedule::monitor(size_t task) const {
  check_task(task);
  return monitors_[task];
}

std::string DsgSchedule::save_state() const {
  std::ostringstream buffer;
  {
    boost::archive::text_oarchive out(buffer);
    write_schedule_header(out, name(), tasks_);
    out << monitors_;
  }
  return buffer.str();
}

void DsgSchedule::load_state(const std::string& blob) {
  std::istringstream buffer(blob);
  std::vector<DsgMonitor> loaded;
  try {
    boost::archive::text_iarchive in(buffer);
    check_schedule_header(in, name(), tasks_);
    in >> loaded;
  } catch (const boost::archive::archive_exception& e) {
    throw CheckpointError(cat("unreadable DSG schedule state: ", e.what()));
  }
  if (loaded.size() != monitors_.size())
    throw CheckpointError(cat("DSG schedule state has ", loaded.size(), " monitors for ",
                              monitors_.size(), " tasks"));
  // Keep this run's options (configuration), take state and history from the checkpoint.
  for (size_t i = 0; i < monitors_.size(); ++i)
    monitors_[i].restore(loaded[i].state(), loaded[i].history());
}

std::unique_ptr<TaskSchedule> make_dsg_schedule(const TrainConfig& config,
                                                std::vector<ScheduledTask> tasks, int64_t) {
  DsgOptions options;
  options.improve = config.dsg_improve;
  options.diverge = config.dsg_diverge;
  options.patience = config.dsg_patience;
  options.cooldown = config.dsg_cooldown;
  options.gap = config.dsg_gap;
  return std::make_unique<DsgSchedule>(std::move(tasks), options, config.dsg_reset_after_epochs);
}

}  // namespace vlmt

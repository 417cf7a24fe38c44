#include "train/task_schedule.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "train/schedule_state.h"

namespace vlmt {

int64_t iterations_per_epoch(const std::vector<ScheduledTask>& tasks) {
  if (tasks.empty()) throw ConfigError("the task schedule needs at least one active task");
  int64_t most = 0;
  for (const auto& t : tasks) {
    if (t.batches_per_epoch < 1)
      throw ConfigError(cat("task ", t.key, " has ", t.batches_per_epoch,
                            " training batches per epoch; need at least 1"));
    most = std::max(most, t.batches_per_epoch);
  }
  return most;
}

std::string joined_keys(const std::vector<ScheduledTask>& tasks) {
  return join_names(tasks, [](const ScheduledTask& t) { return t.key; });
}

TaskSchedule::TaskSchedule(std::vector<ScheduledTask> tasks)
    : tasks_(std::move(tasks)), iterations_per_epoch_(vlmt::iterations_per_epoch(tasks_)) {}

void TaskSchedule::check_task(size_t task) const {
  if (task >= tasks_.size())
    throw Error(ExitCode::kFailure, cat("task index ", task, " out of range (", tasks_.size(),
                                        " active tasks)"));
}

void TaskSchedule::on_validation(size_t task, int64_t, double, ScheduleSink&) {
  check_task(task);
}

void TaskSchedule::on_iteration_end(int64_t, ScheduleSink&) {}

std::string TaskSchedule::state_label(size_t task, int64_t iteration) const {
  return weight(task, iteration) > 0 ? "go" : "wait";
}

bool TaskSchedule::should_validate(size_t task, int64_t iteration) const {
  check_task(task);
  // train_tasks.py validates after 0-based iteration iterId when iterId ≠ 0 and iterId mod n_t = 0.
  const int64_t released_id = iteration - 1;
  return released_id > 0 && released_id % tasks_[task].batches_per_epoch == 0;
}

int64_t TaskSchedule::task_epoch(size_t task, int64_t iteration) const {
  check_task(task);
  return (iteration - 1) / tasks_[task].batches_per_epoch;
}

size_t TaskSchedule::task_index(const std::string& key) const {
  for (size_t i = 0; i < tasks_.size(); ++i)
    if (tasks_[i].key == key) return i;
  throw ConfigError(cat("task ", key, " is not active; active tasks: ", joined_keys(tasks_)));
}

std::string TaskSchedule::save_state() const {
  std::ostringstream buffer;
  {
    boost::archive::text_oarchive out(buffer);
    write_schedule_header(out, name(), tasks_);
  }
  return buffer.str();
}

void TaskSchedule::load_state(const std::string& blob) {
  std::istringstream buffer(blob);
  try {
    boost::archive::text_iarchive in(buffer);
    check_schedule_header(in, name(), tasks_);
  } catch (const boost::archive::archive_exception& e) {
    throw CheckpointError(cat("unreadable task schedule state: ", e.what()));
  }
}

}  // namespace vlmt

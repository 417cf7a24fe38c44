#include "train/task_schedule.h"

#include <algorithm>
#include <sstream>

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>

#include "config/run_config.h"
#include "core/error.h"
#include "core/log.h"
#include "train/dsg_agreement.h"

namespace vlmt {
namespace {

std::vector<std::string> keys_of(const std::vector<ScheduledTask>& tasks) {
  std::vector<std::string> keys;
  for (const auto& t : tasks) keys.push_back(t.key);
  return keys;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Reads the common header of a schedule state (policy name, task keys) and checks it matches.
void check_header(boost::archive::text_iarchive& in, const std::string& name,
                  const std::vector<ScheduledTask>& tasks) {
  std::string saved_name;
  std::vector<std::string> saved_keys;
  in >> saved_name >> saved_keys;
  if (saved_name != name)
    throw CheckpointError(cat("checkpoint has task schedule \"", saved_name,
                              "\" but this run uses \"", name, "\""));
  if (saved_keys != keys_of(tasks))
    throw CheckpointError(cat("checkpoint schedule is for tasks [", join(saved_keys),
                              "] but this run has [", join(keys_of(tasks)), "]"));
}

}  // namespace

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

// ---- TaskSchedule ------------------------------------------------------------------------

TaskSchedule::TaskSchedule(std::vector<ScheduledTask> tasks)
    : tasks_(std::move(tasks)), iterations_per_epoch_(vlmt::iterations_per_epoch(tasks_)) {}

void TaskSchedule::check_task(size_t task) const {
  if (task >= tasks_.size())
    throw Error(ExitCode::kFailure, cat("task index ", task, " out of range (", tasks_.size(),
                                        " active tasks)"));
}

std::optional<DsgEvent> TaskSchedule::on_validation(size_t task, int64_t, double) {
  check_task(task);
  return std::nullopt;
}

std::string TaskSchedule::state_label(size_t task, int64_t iteration) const {
  return should_train(task, iteration) ? "go" : "wait";
}

bool TaskSchedule::should_validate(size_t task, int64_t iteration) const {
  check_task(task);
  return iteration > 0 && iteration % tasks_[task].batches_per_epoch == 0;
}

int64_t TaskSchedule::task_epoch(size_t task, int64_t iteration) const {
  check_task(task);
  return iteration / tasks_[task].batches_per_epoch;
}

size_t TaskSchedule::task_index(const std::string& key) const {
  for (size_t i = 0; i < tasks_.size(); ++i)
    if (tasks_[i].key == key) return i;
  throw ConfigError(cat("task ", key, " is not active; active tasks: ", join(keys_of(tasks_))));
}

std::string TaskSchedule::save_state() const {
  std::ostringstream buffer;
  {
    boost::archive::text_oarchive out(buffer);
    const std::string policy = name();
    const std::vector<std::string> keys = keys_of(tasks_);
    out << policy << keys;
  }
  return buffer.str();
}

void TaskSchedule::load_state(const std::string& blob) {
  std::istringstream buffer(blob);
  try {
    boost::archive::text_iarchive in(buffer);
    check_header(in, name(), tasks_);
  } catch (const boost::archive::archive_exception& e) {
    throw CheckpointError(cat("unreadable task schedule state: ", e.what()));
  }
}

// ---- vanilla -----------------------------------------------------------------------------

bool VanillaSchedule::should_train(size_t task, int64_t) const {
  check_task(task);
  return true;
}

// ---- DSG ---------------------------------------------------------------------------------

DsgSchedule::DsgSchedule(std::vector<ScheduledTask> tasks, DsgOptions options)
    : TaskSchedule(std::move(tasks)) {
  for (const auto& t : tasks_) monitors_.emplace_back(t.key, options);
}

bool DsgSchedule::should_train(size_t task, int64_t iteration) const {
  check_task(task);
  return monitors_[task].trains_at(iteration);
}

std::optional<DsgEvent> DsgSchedule::on_validation(size_t task, int64_t iteration, double score) {
  check_task(task);
  DsgMonitor& monitor = monitors_[task];
  DsgEvent event = monitor.observe(iteration, score);
  if (comm_ != nullptr) agree_dsg_state(*comm_, monitor.task(), iteration, monitor.state());
  return event;
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
    const std::string policy = name();
    const std::vector<std::string> keys = keys_of(tasks_);
    out << policy << keys << monitors_;
  }
  return buffer.str();
}

void DsgSchedule::load_state(const std::string& blob) {
  std::istringstream buffer(blob);
  std::vector<DsgMonitor> loaded;
  try {
    boost::archive::text_iarchive in(buffer);
    check_header(in, name(), tasks_);
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

// ---- (anti-)curriculum -------------------------------------------------------------------

CurriculumSchedule::CurriculumSchedule(std::vector<ScheduledTask> tasks, std::string name,
                                       int first_group, int64_t phase_iterations)
    : TaskSchedule(std::move(tasks)), name_(std::move(name)), first_group_(first_group),
      phase_iterations_(phase_iterations) {
  if (phase_iterations_ < 0)
    throw ConfigError(cat("train.curriculum_iterations must be >= 0, got ", phase_iterations_));
  const bool any = std::any_of(tasks_.begin(), tasks_.end(),
                               [&](const ScheduledTask& t) { return t.group == first_group_; });
  if (!any)
    throw ConfigError(cat("schedule ", name_, " starts with group G", first_group_,
                          " but none of the active tasks [", join(keys_of(tasks_)),
                          "] is in it"));
}

bool CurriculumSchedule::should_train(size_t task, int64_t iteration) const {
  check_task(task);
  return iteration > phase_iterations_ || tasks_[task].group == first_group_;
}

std::string CurriculumSchedule::state_label(size_t task, int64_t iteration) const {
  return should_train(task, iteration) ? "go" : "wait";
}

// ---- factory -----------------------------------------------------------------------------

std::unique_ptr<TaskSchedule> make_task_schedule(const TrainConfig& config,
                                                 std::vector<ScheduledTask> tasks,
                                                 int64_t total_iterations) {
  const std::string& policy = config.schedule;
  if (policy == "dsg") {
    DsgOptions options;
    options.improve = config.dsg_improve;
    options.diverge = config.dsg_diverge;
    options.patience = config.dsg_patience;
    options.cooldown = config.dsg_cooldown;
    options.gap = config.dsg_gap;
    return std::make_unique<DsgSchedule>(std::move(tasks), options);
  }
  if (policy == "vanilla") return std::make_unique<VanillaSchedule>(std::move(tasks));
  if (policy == "curriculum" || policy == "anti_curriculum") {
    int64_t phase = config.curriculum_iterations;
    if (phase == 0) phase = std::max<int64_t>(1, total_iterations / 10);
    const int first_group = policy == "curriculum" ? 4 : 1;
    return std::make_unique<CurriculumSchedule>(std::move(tasks), policy, first_group, phase);
  }
  throw ConfigError(cat("unknown train.schedule \"", policy,
                        "\"; valid: dsg, vanilla, curriculum, anti_curriculum"));
}

}  // namespace vlmt

#include "train/schedule_registry.h"

#include "catalog/task_catalog.h"
#include "config/run_config.h"
#include "config/toml_reader.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt {

const std::vector<ScheduleEntry>& schedule_registry() {
  static const std::vector<ScheduleEntry> entries = {
      {"dsg", "round robin + Dynamic Stop-and-Go per task", make_dsg_schedule, nullptr},
      {"vanilla", "round robin: every task every iteration", make_vanilla_schedule, nullptr},
      {"curriculum", "iterations 1..P: only G4 (verification) tasks; afterwards all tasks",
       make_curriculum_schedule, check_curriculum_tasks},
      {"anti_curriculum", "iterations 1..P: only G1 (vocab-based VQA) tasks; afterwards all tasks",
       make_anti_curriculum_schedule, check_anti_curriculum_tasks},
  };
  return entries;
}

namespace {

const ScheduleEntry* lookup(const std::string& name) {
  for (const auto& entry : schedule_registry())
    if (entry.name == name) return &entry;
  return nullptr;
}

std::string not_a_schedule(const std::string& name) {
  return not_one_of(name, schedule_registry(), [](const ScheduleEntry& e) { return e.name; });
}

}  // namespace

const ScheduleEntry& find_schedule(const std::string& name) {
  if (const ScheduleEntry* entry = lookup(name)) return *entry;
  throw ConfigError(cat("train.schedule: ", not_a_schedule(name)));
}

void check_schedule(const RunConfig& config, ConfigIssues& issues) {
  const std::string& name = config.train.schedule;
  const ScheduleEntry* entry = lookup(name);
  if (!entry) {
    issues.add(config.file, "train.schedule", not_a_schedule(name));
    return;
  }
  if (!entry->check || config.tasks.active.empty()) return;  // no tasks: the stage says so
  std::vector<ScheduledTask> active;
  for (const auto& key : config.tasks.active)
    if (const TaskSpec* spec = config.catalog.find(key)) active.push_back({key, group_index(spec->group)});
  const std::string problem = entry->check(active);
  if (!problem.empty()) issues.add(config.file, "train.schedule", problem);
}

std::unique_ptr<TaskSchedule> make_task_schedule(const TrainConfig& config,
                                                 std::vector<ScheduledTask> tasks,
                                                 int64_t total_iterations) {
  return find_schedule(config.schedule).make(config, std::move(tasks), total_iterations);
}

}  // namespace vlmt

#include "train/schedule_registry.h"

#include "config/run_config.h"
#include "config/toml_reader.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt {

const std::vector<ScheduleEntry>& schedule_registry() {
  static const std::vector<ScheduleEntry> entries = {
      {"dsg", "round robin + Dynamic Stop-and-Go per task", make_dsg_schedule},
      {"vanilla", "round robin: every task every iteration", make_vanilla_schedule},
      {"curriculum", "iterations 1..P: only G4 (verification) tasks; afterwards all tasks",
       make_curriculum_schedule},
      {"anti_curriculum", "iterations 1..P: only G1 (vocab-based VQA) tasks; afterwards all tasks",
       make_anti_curriculum_schedule},
  };
  return entries;
}

namespace {

const ScheduleEntry* lookup(const std::string& name) {
  for (const auto& entry : schedule_registry())
    if (entry.name == name) return &entry;
  return nullptr;
}

std::string valid_names() {
  std::string valid;
  for (const auto& entry : schedule_registry()) valid += (valid.empty() ? "" : ", ") + entry.name;
  return valid;
}

}  // namespace

const ScheduleEntry& find_schedule(const std::string& name) {
  if (const ScheduleEntry* entry = lookup(name)) return *entry;
  throw ConfigError(cat("unknown train.schedule \"", name, "\"; valid: ", valid_names()));
}

void check_schedule_name(const RunConfig& config, ConfigIssues& issues) {
  const std::string& name = config.train.schedule;
  if (!lookup(name)) issues.add(config.file, "train.schedule", cat("\"", name, "\" is not one of: ", valid_names()));
}

std::unique_ptr<TaskSchedule> make_task_schedule(const TrainConfig& config,
                                                 std::vector<ScheduledTask> tasks,
                                                 int64_t total_iterations) {
  return find_schedule(config.schedule).make(config, std::move(tasks), total_iterations);
}

}  // namespace vlmt

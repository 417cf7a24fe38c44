#include "train/schedule_registry.h"

#include "config/run_config.h"
#include "config/schedule_names.h"
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

std::vector<std::string> schedule_names() {
  std::vector<std::string> names;
  for (const auto& entry : schedule_registry()) names.push_back(entry.name);
  return names;
}

const ScheduleEntry& find_schedule(const std::string& name) {
  std::string valid;
  for (const auto& entry : schedule_registry()) {
    if (entry.name == name) return entry;
    valid += (valid.empty() ? "" : ", ") + entry.name;
  }
  throw ConfigError(cat("unknown train.schedule \"", name, "\"; valid: ", valid));
}

std::unique_ptr<TaskSchedule> make_task_schedule(const TrainConfig& config,
                                                 std::vector<ScheduledTask> tasks,
                                                 int64_t total_iterations) {
  return find_schedule(config.schedule).make(config, std::move(tasks), total_iterations);
}

}  // namespace vlmt

#pragma once
// Every task schedule policy, by the name train.schedule gives it: the one list of names, the
// check of a config's name against it, and the factory that builds a run's schedule from it. The
// interface (train/task_schedule.h) knows none of this, and config/ reads train.schedule as
// plain text: the stages check the name, and the policy's rule on the active tasks, where they
// resolve a config (check_schedule).
//
// Adding a policy: one file train/<name>_schedule.cpp with a TaskSchedule subclass and its
// factory, plus the factory's declaration below and its row in schedule_registry.cpp.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "train/task_schedule.h"

namespace vlmt {

class ConfigIssues;
struct RunConfig;
struct TrainConfig;

// Builds the policy for the active tasks of a run of `total_iterations` iterations; throws
// ConfigError when the settings or tasks do not suit it.
using ScheduleFactory = std::unique_ptr<TaskSchedule> (*)(const TrainConfig& config,
                                                          std::vector<ScheduledTask> tasks,
                                                          int64_t total_iterations);

// A policy's rule on the run's active tasks, asked while the stage loads the config: empty when
// they suit it, else the error. Null for a policy that takes any tasks.
using ScheduleCheck = std::string (*)(const std::vector<ScheduledTask>& active);

struct ScheduleEntry {
  std::string name;         // the value of train.schedule
  std::string description;  // one line, for docs and error messages
  ScheduleFactory make;
  ScheduleCheck check = nullptr;
};

// In the order shown to users; the first is the default.
const std::vector<ScheduleEntry>& schedule_registry();
// The entry named `name`; throws ConfigError naming train.schedule and the valid names.
const ScheduleEntry& find_schedule(const std::string& name);

// Adds an issue when config.train.schedule names no policy, worded as the config's own errors:
// "<file that set it>: train.schedule: "x" is not one of: dsg, vanilla, ..." (train/config_checks.h),
// or when the policy's check refuses the active tasks (tasks.active).
void check_schedule(const RunConfig& config, ConfigIssues& issues);

// Builds the policy named by config.schedule; throws ConfigError for an unknown name.
std::unique_ptr<TaskSchedule> make_task_schedule(const TrainConfig& config,
                                                 std::vector<ScheduledTask> tasks,
                                                 int64_t total_iterations);

// The factories, one per policy file.
std::unique_ptr<TaskSchedule> make_dsg_schedule(const TrainConfig&, std::vector<ScheduledTask>,
                                                int64_t);
std::unique_ptr<TaskSchedule> make_vanilla_schedule(const TrainConfig&,
                                                    std::vector<ScheduledTask>, int64_t);
std::unique_ptr<TaskSchedule> make_curriculum_schedule(const TrainConfig&,
                                                       std::vector<ScheduledTask>, int64_t);
std::unique_ptr<TaskSchedule> make_anti_curriculum_schedule(const TrainConfig&,
                                                            std::vector<ScheduledTask>, int64_t);
// The checks, one per policy that has one.
std::string check_curriculum_tasks(const std::vector<ScheduledTask>& active);
std::string check_anti_curriculum_tasks(const std::vector<ScheduledTask>& active);

}  // namespace vlmt

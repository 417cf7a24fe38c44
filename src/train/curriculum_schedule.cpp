#include "train/curriculum_schedule.h"

#include <algorithm>

#include "config/run_config.h"
#include "core/error.h"
#include "core/log.h"
#include "train/schedule_registry.h"

namespace vlmt {

std::string curriculum_start_problem(const std::string& name, int first_group,
                                     const std::vector<ScheduledTask>& tasks) {
  const bool any = std::any_of(tasks.begin(), tasks.end(),
                               [&](const ScheduledTask& t) { return t.group == first_group; });
  if (any) return "";
  return cat("schedule ", name, " starts with group G", first_group, " but none of the active tasks [",
             joined_keys(tasks), "] is in it");
}

CurriculumSchedule::CurriculumSchedule(std::vector<ScheduledTask> tasks, std::string name,
                                       int first_group, int64_t phase_iterations)
    : TaskSchedule(std::move(tasks)), name_(std::move(name)), first_group_(first_group),
      phase_iterations_(phase_iterations) {
  const std::string problem = curriculum_start_problem(name_, first_group_, tasks_);
  if (!problem.empty()) throw ConfigError(problem);
}

double CurriculumSchedule::weight(size_t task, int64_t iteration) const {
  check_task(task);
  return iteration > phase_iterations_ || tasks_[task].group == first_group_ ? 1.0 : 0.0;
}

namespace {

std::unique_ptr<TaskSchedule> make_curriculum(const std::string& name, int first_group,
                                              const TrainConfig& config,
                                              std::vector<ScheduledTask> tasks,
                                              int64_t total_iterations) {
  int64_t phase = config.curriculum_iterations;
  if (phase == 0) phase = std::max<int64_t>(1, total_iterations / 10);
  return std::make_unique<CurriculumSchedule>(std::move(tasks), name, first_group, phase);
}

}  // namespace

std::string check_curriculum_tasks(const std::vector<ScheduledTask>& active) {
  return curriculum_start_problem("curriculum", kCurriculumFirstGroup, active);
}

std::string check_anti_curriculum_tasks(const std::vector<ScheduledTask>& active) {
  return curriculum_start_problem("anti_curriculum", kAntiCurriculumFirstGroup, active);
}

std::unique_ptr<TaskSchedule> make_curriculum_schedule(const TrainConfig& config,
                                                       std::vector<ScheduledTask> tasks,
                                                       int64_t total_iterations) {
  return make_curriculum("curriculum", kCurriculumFirstGroup, config, std::move(tasks), total_iterations);
}

std::unique_ptr<TaskSchedule> make_anti_curriculum_schedule(const TrainConfig& config,
                                                            std::vector<ScheduledTask> tasks,
                                                            int64_t total_iterations) {
  return make_curriculum("anti_curriculum", kAntiCurriculumFirstGroup, config, std::move(tasks),
                         total_iterations);
}

}  // namespace vlmt

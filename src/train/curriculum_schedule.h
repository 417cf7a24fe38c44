#pragma once
// curriculum / anti_curriculum: iterations 1..P train only the tasks of the first group (G4,
// verification, for the curriculum; G1, vocab-based VQA, for the anti-curriculum), then every
// task; all with weight 1. P = train.curriculum_iterations, or 10% of the total when 0. (Paper
// section 5 / Table 6; the G3 phase mentioned in section 3.3 is not what Table 6 reports, see
// docs/TRAINING.md.)
#include <string>
#include <vector>

#include "train/task_schedule.h"

namespace vlmt {

// The first group of each curriculum: G4 for "curriculum", G1 for "anti_curriculum".
inline constexpr int kCurriculumFirstGroup = 4;
inline constexpr int kAntiCurriculumFirstGroup = 1;

// The curricula's rule on the active tasks: empty when one of `tasks` is in `first_group`, else
// the error. Checked when the stage loads the config (the schedule registry) and again when a
// schedule is built.
std::string curriculum_start_problem(const std::string& name, int first_group,
                                     const std::vector<ScheduledTask>& tasks);

class CurriculumSchedule : public TaskSchedule {
 public:
  // Throws ConfigError when no task belongs to first_group or phase_iterations < 0.
  CurriculumSchedule(std::vector<ScheduledTask> tasks, std::string name, int first_group,
                     int64_t phase_iterations);
  std::string name() const override { return name_; }
  double weight(size_t task, int64_t iteration) const override;
  int64_t phase_iterations() const { return phase_iterations_; }

 private:
  std::string name_;
  int first_group_;
  int64_t phase_iterations_;
};

}  // namespace vlmt

#include "train/vanilla_schedule.h"

#include "train/schedule_registry.h"

namespace vlmt {

double VanillaSchedule::weight(size_t task, int64_t) const {
  check_task(task);
  return 1.0;
}

std::unique_ptr<TaskSchedule> make_vanilla_schedule(const TrainConfig&,
                                                    std::vector<ScheduledTask> tasks, int64_t) {
  return std::make_unique<VanillaSchedule>(std::move(tasks));
}

}  // namespace vlmt

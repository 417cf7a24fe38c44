#pragma once
// vanilla: round robin, every task every iteration with weight 1 (paper Table 6 row 7).
#include "train/task_schedule.h"

namespace vlmt {

class VanillaSchedule : public TaskSchedule {
 public:
  using TaskSchedule::TaskSchedule;
  std::string name() const override { return "vanilla"; }
  double weight(size_t task, int64_t iteration) const override;
};

}  // namespace vlmt

#include "train/lr_schedule.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

WarmupLinearSchedule::WarmupLinearSchedule(int64_t total_steps, double warmup_proportion)
    : total_steps_(total_steps),
      warmup_steps_(warmup_proportion * static_cast<double>(total_steps)) {
  if (total_steps <= 0)
    throw ConfigError(cat("train.iterations must be positive for the LR schedule, got ",
                          total_steps));
}

double WarmupLinearSchedule::factor_at(int64_t step) const {
  const double s = static_cast<double>(step);
  if (s < warmup_steps_) return s / std::max(1.0, warmup_steps_);
  const double remaining = static_cast<double>(total_steps_) - s;
  const double decay_steps = static_cast<double>(total_steps_) - warmup_steps_;
  return std::max(0.0, remaining / std::max(1.0, decay_steps));
}

void WarmupLinearSchedule::set_step(int64_t step) {
  if (step < 0) throw CheckpointError(cat("LR schedule step must not be negative, got ", step));
  step_ = step;
}

}  // namespace vlmt

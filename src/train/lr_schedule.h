#pragma once
// Learning-rate multiplier of the released 12-in-1 run (pytorch_transformers
// WarmupLinearSchedule): linear warm-up from 0 to 1 over warmup_proportion × total steps, then
// linear decay to 0 at `total` steps. `step` counts schedule steps; the first step runs with
// factor(0) = 0, as the released LambdaLR-based schedule does. The trainer advances it once per
// iteration, right after the iteration's first optimiser step (train_tasks.py), so the other
// tasks of that iteration already use the next factor.
#include <cstdint>

namespace vlmt {

class WarmupLinearSchedule {
 public:
  // Throws ConfigError for total_steps <= 0 or a proportion outside [0, 1].
  WarmupLinearSchedule(int64_t total_steps, double warmup_proportion);

  double factor() const { return factor_at(step_); }
  double factor_at(int64_t step) const;
  void advance() { ++step_; }

  int64_t step() const { return step_; }
  void set_step(int64_t step);  // for resuming; throws CheckpointError when negative
  int64_t total_steps() const { return total_steps_; }
  double warmup_steps() const { return warmup_steps_; }

  template <class Archive>
  void serialize(Archive& ar, const unsigned int /*version*/) {
    ar & step_;
  }

 private:
  int64_t total_steps_;
  double warmup_steps_;  // fractional, as in the released code (proportion × total)
  int64_t step_ = 0;
};

}  // namespace vlmt

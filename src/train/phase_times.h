#pragma once
// Where a training iteration's time goes, summed between two progress reports and written into
// metrics.jsonl's progress records ("time_s", seconds per iteration) and the progress line, so
// that a slow loop shows whether it waits for data, computes, synchronises or validates.
//
// Phases, in the order an iteration runs them:
//   data        next batch from the task's loader (prefetched) and its copy to the device
//   forward     the trunk, the head and the loss
//   backward    backward, with the gradient buckets all-reduced as they fill (overlapped)
//   sync        the buckets still pending after backward, and the averages written back
//   optimizer   AdamW over the stepped parameters (and the loss read back to the host)
//   validation  validation passes and the schedule's (DSG) decisions
//   other       the rest of the wall time: progress reports, metrics, checkpoints
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/device_timeline.h"
#include "core/timing.h"

namespace vlmt {

class PhaseTimes {
 public:
  enum Phase { kData, kForward, kBackward, kSync, kOptimizer, kValidation, kPhases };
  static const char* name(Phase phase);

  explicit PhaseTimes(torch::Device device) : PhaseTimes(make_device_timeline(device)) {}
  explicit PhaseTimes(std::unique_ptr<DeviceTimeline> timeline) : timeline_(std::move(timeline)) { restart(); }

  // Starts the window (after a report) and the current phase's clock.
  void restart();
  // Ends the running phase as `phase`: the time since the previous lap (or restart) on the
  // device's timeline is added to it, so GPU kernels count where they run. Laps only mark the
  // timeline; the laps that end a step (optimizer) or a validation pass wait for the device once
  // and add up the phases since the last wait.
  void lap(Phase phase);
  // Restarts the phase clock without counting the time since the previous lap anywhere, so it
  // goes to "other".
  void skip();

  // Seconds per iteration of each phase and "other" over the window (iterations > 0).
  std::vector<std::pair<std::string, double>> per_iteration(int64_t iterations);

 private:
  void settle();

  std::unique_ptr<DeviceTimeline> timeline_;
  std::vector<int> marked_;  // per mark since the last settle: its phase, or kPhases (skipped)
  std::array<double, kPhases> seconds_{};
  SteadyClock::time_point window_start_;
};

}  // namespace vlmt

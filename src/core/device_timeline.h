#pragma once
// Points on a device's timeline, read back with one wait. PhaseTimes marks the end of each phase
// of a training step and settles once per step, so timing a step costs one device
// synchronisation instead of one per phase (each of which would also stall the queue the GPU
// works from). On the CPU a mark is the host clock (its work is done when the call returns); on
// CUDA a timing event on the current stream (device_timeline_cuda.cpp).
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace vlmt {

class DeviceTimeline {
 public:
  virtual ~DeviceTimeline() = default;
  // A point after the work enqueued so far.
  virtual void mark() = 0;
  // Waits for the last mark and returns the seconds between consecutive marks since the last
  // settle: one per mark, the first measured from the previous settle's last mark (or from
  // construction).
  virtual std::vector<double> settle() = 0;
};

std::unique_ptr<DeviceTimeline> make_device_timeline(torch::Device device);

}  // namespace vlmt

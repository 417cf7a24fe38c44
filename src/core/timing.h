#pragma once
// Wall-clock timing of work that may be queued on a device: the clock is read only after the
// device has finished what was queued, so a GPU's asynchronous kernels are counted where they run.
#include <chrono>

#include <torch/torch.h>

namespace vlmt {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// Waits for the device's queued work (nothing to wait for on the CPU).
inline void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// Seconds f() takes on `device`, its queued work included.
template <class F>
double seconds_of(const torch::Device& device, F&& f) {
  synchronize(device);
  const auto t0 = SteadyClock::now();
  f();
  synchronize(device);
  return seconds_since(t0);
}

}  // namespace vlmt

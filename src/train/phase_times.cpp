#include "train/phase_times.h"

namespace vlmt {

const char* PhaseTimes::name(Phase phase) {
  static const char* const names[kPhases] = {"data", "forward", "backward", "sync", "optimizer", "validation"};
  return names[phase];
}

void PhaseTimes::restart() {
  seconds_.fill(0.0);
  window_start_ = last_ = SteadyClock::now();
}

void PhaseTimes::lap(Phase phase) {
  synchronize(device_);
  const auto now = SteadyClock::now();
  seconds_[phase] += std::chrono::duration<double>(now - last_).count();
  last_ = now;
}

void PhaseTimes::skip() { last_ = SteadyClock::now(); }

std::vector<std::pair<std::string, double>> PhaseTimes::per_iteration(int64_t iterations) const {
  const double n = static_cast<double>(std::max<int64_t>(1, iterations));
  std::vector<std::pair<std::string, double>> out;
  double counted = 0.0;
  for (int p = 0; p < kPhases; ++p) {
    out.emplace_back(name(static_cast<Phase>(p)), seconds_[p] / n);
    counted += seconds_[p];
  }
  out.emplace_back("other", std::max(0.0, seconds_since(window_start_) - counted) / n);
  return out;
}

}  // namespace vlmt

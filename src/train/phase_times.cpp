#include "train/phase_times.h"

namespace vlmt {

const char* PhaseTimes::name(Phase phase) {
  static const char* const names[kPhases] = {"data", "forward", "backward", "sync", "optimizer", "validation"};
  return names[phase];
}

void PhaseTimes::restart() {
  timeline_->mark();
  marked_.push_back(kPhases);
  settle();
  seconds_.fill(0.0);
  window_start_ = SteadyClock::now();
}

void PhaseTimes::lap(Phase phase) {
  timeline_->mark();
  marked_.push_back(phase);
  if (phase == kOptimizer || phase == kValidation) settle();
}

void PhaseTimes::skip() {
  timeline_->mark();
  marked_.push_back(kPhases);
}

void PhaseTimes::settle() {
  const std::vector<double> intervals = timeline_->settle();
  for (size_t i = 0; i < intervals.size() && i < marked_.size(); ++i)
    if (marked_[i] < kPhases) seconds_[marked_[i]] += intervals[i];
  marked_.clear();
}

std::vector<std::pair<std::string, double>> PhaseTimes::per_iteration(int64_t iterations) {
  settle();
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

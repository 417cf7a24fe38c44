#include "train/dsg.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "eval/metrics_schema.h"

namespace vlmt {

std::string dsg_mode_name(DsgMode mode) {
  return mode == DsgMode::kStop ? metrics_state::kStop : metrics_state::kGo;  // as metrics.jsonl spells them
}

bool DsgState::operator==(const DsgState& other) const {
  // `best` is compared bit for bit: ranks must agree exactly, not approximately.
  return mode == other.mode && has_best == other.has_best &&
         std::memcmp(&best, &other.best, sizeof best) == 0 &&
         num_bad_epochs == other.num_bad_epochs && cooldown_counter == other.cooldown_counter &&
         epochs == other.epochs;
}

std::string DsgState::describe() const {
  std::ostringstream out;
  out << "{mode=" << dsg_mode_name(mode) << ", best=";
  if (has_best) {
    char digits[32];  // shortest text that reads back as the same double
    const auto end = std::to_chars(digits, digits + sizeof digits, best).ptr;
    out << std::string(digits, end);
  } else {
    out << "none";
  }
  out << ", bad_epochs=" << num_bad_epochs << ", cooldown=" << cooldown_counter
      << ", epochs=" << epochs << "}";
  return out.str();
}

DsgMonitor::DsgMonitor(std::string task, DsgOptions options) : task_(std::move(task)), options_(options) {}

const DsgEvent& DsgMonitor::observe(int64_t iteration, double score) {
  if (!std::isfinite(score))
    throw Error(ExitCode::kFailure, cat("validation score of task ", task_, " at iteration ",
                                        iteration, " is not finite (", score, ")"));
  DsgState& s = state_;
  const DsgMode before = s.mode;
  ++s.epochs;

  if (!s.has_best || score > s.best * (1.0 + options_.improve)) {
    s.has_best = true;
    s.best = score;
    s.num_bad_epochs = 0;
  } else {
    ++s.num_bad_epochs;
  }
  if (s.cooldown_counter > 0) {
    --s.cooldown_counter;
    s.num_bad_epochs = 0;
  }
  if (s.num_bad_epochs > options_.patience) {
    s.mode = DsgMode::kStop;
    s.cooldown_counter = options_.cooldown;
    s.num_bad_epochs = 0;
  } else if (s.mode == DsgMode::kStop && score < s.best * (1.0 - options_.diverge)) {
    s.mode = DsgMode::kGo;
    s.cooldown_counter = options_.cooldown;
    s.num_bad_epochs = 0;
  }

  history_.push_back({iteration, s.epochs, score, s.mode, s.mode != before, s.best});
  return history_.back();
}

bool DsgMonitor::trains_at(int64_t iteration) const {
  // train_tasks.py counts iterations from 0 (iterId): a stopped task trains when iterId mod Δ = 0,
  // that is on iterations 1, 1 + Δ, 1 + 2Δ, ... of vlmt's 1-based count.
  return state_.mode == DsgMode::kGo || (iteration - 1) % options_.gap == 0;
}

void DsgMonitor::reset() {
  const int64_t epochs = state_.epochs;
  state_ = DsgState{};
  state_.epochs = epochs;
}

}  // namespace vlmt

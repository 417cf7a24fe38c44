#pragma once
// Dynamic Stop-and-Go (paper section 3.3, Algorithm 1) for one task, with the released rule
// (MultiTaskStopOnPlateau, vilbert/utils.py, set up in train_tasks.py). Scores are "higher is
// better" and meant to be non-negative (accuracies, recalls): thresholds are relative to `best`.
//
// One observe() per validation of the task:
//   1. better  := no best yet, or score > best × (1 + improve)  → best = score, bad = 0;
//      otherwise bad += 1.
//   2. if a cooldown is running: cooldown −= 1 and bad = 0 (bad epochs in cooldown are ignored).
//   3. if bad > patience                          → stop; bad = 0; cooldown = `cooldown`.
//      else if stopped and score < best × (1 − diverge) → go;   bad = 0; cooldown = `cooldown`.
// (3 is an if / else-if: the epoch that re-triggers "stop" while already stopped does not check
// for divergence, exactly as released.) A stopped task trains only on iterations i with
// (i − 1) mod gap = 0 (the released 0-based iterId mod gap = 0); a task in go trains on every
// iteration.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

namespace vlmt {

// The train.dsg_* values; their ranges are checked where the config is read (config/run_config.cpp).
struct DsgOptions {
  double improve = 0.001;  // relative improvement that counts as better
  double diverge = 0.005;  // relative drop below best that sends a stopped task back to go
  int patience = 1;        // stop after more than this many bad epochs in a row
  int cooldown = 1;        // epochs after a switch whose bad epochs are ignored
  int gap = 4;             // Δ (train_iter_gap)
};

enum class DsgMode : int { kGo = 0, kStop = 1 };
std::string dsg_mode_name(DsgMode mode);  // "go" / "stop"

// Everything the decision depends on. `best` is meaningful only when has_best (no infinities,
// so every archive type round-trips it).
struct DsgState {
  DsgMode mode = DsgMode::kGo;
  bool has_best = false;
  double best = 0.0;
  int num_bad_epochs = 0;
  int cooldown_counter = 0;
  int64_t epochs = 0;  // validations observed so far

  bool operator==(const DsgState& other) const;
  bool operator!=(const DsgState& other) const { return !(*this == other); }
  std::string describe() const;

  template <class Archive>
  void serialize(Archive& ar, const unsigned int /*version*/) {
    ar & mode & has_best & best & num_bad_epochs & cooldown_counter & epochs;
  }
};

// One validation of the task and the state it led to.
struct DsgEvent {
  int64_t iteration = 0;
  int64_t epoch = 0;   // 1-based count of the task's validations
  double score = 0.0;
  DsgMode mode = DsgMode::kGo;  // after this validation
  bool switched = false;        // mode changed at this validation
  double best = 0.0;

  template <class Archive>
  void serialize(Archive& ar, const unsigned int /*version*/) {
    ar & iteration & epoch & score & mode & switched & best;
  }
};

class DsgMonitor {
 public:
  DsgMonitor() = default;  // for deserialisation
  DsgMonitor(std::string task, DsgOptions options);

  // Applies one validation score; throws vlmt::Error for a non-finite score.
  const DsgEvent& observe(int64_t iteration, double score);

  // Whether the task takes a training step at (1-based) multi-task iteration `iteration`.
  bool trains_at(int64_t iteration) const;

  const std::string& task() const { return task_; }
  const DsgOptions& options() const { return options_; }
  const DsgState& state() const { return state_; }
  DsgMode mode() const { return state_.mode; }
  const std::vector<DsgEvent>& history() const { return history_; }
  // Back to go with no best and zeroed counters (the released _reset(); validations observed
  // and the history are kept).
  void reset();
  // Resuming from a checkpoint: state and history saved earlier, options from this run.
  void restore(DsgState state, std::vector<DsgEvent> history) {
    state_ = state;
    history_ = std::move(history);
  }

  // Options are configuration, not state: they come from the run's config on resume.
  template <class Archive>
  void serialize(Archive& ar, const unsigned int /*version*/) {
    ar & task_ & state_ & history_;
  }

 private:
  std::string task_;
  DsgOptions options_;
  DsgState state_;
  std::vector<DsgEvent> history_;
};

}  // namespace vlmt

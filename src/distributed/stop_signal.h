#pragma once
// Graceful stop: Slurm sends SIGUSR1 (--signal=USR1@...) or SIGTERM before killing a job. The
// handlers only set a flag; the training loop asks `agree_to_stop` at a step boundary, which
// all-reduces the flag (max) so that every rank takes the same decision in the same step,
// writes a checkpoint and exits with ExitCode::kPreempted.
#include <chrono>

#include "distributed/communicator.h"

namespace vlmt {

// Installs the SIGTERM and SIGUSR1 handlers (idempotent).
void install_stop_handlers();
// Whether this process received a stop signal, and which (0 = none).
bool stop_requested();
int stop_signal();
// Forgets a received signal (tests, or after a handled stop).
void clear_stop_request();

// A wall-clock budget started at construction; max_hours <= 0 means no deadline.
class Deadline {
 public:
  explicit Deadline(double max_hours = 0.0);
  bool passed() const;
  double hours_left() const;  // +inf without a deadline

 private:
  double max_hours_;
  std::chrono::steady_clock::time_point start_;
};

// Collective: true on every rank if any rank got a stop signal or passed its deadline.
bool agree_to_stop(Communicator& comm, const Deadline& deadline = Deadline());
// The same with the caller's own clock: `deadline_passed` is this rank's view.
bool agree_to_stop(Communicator& comm, bool deadline_passed);

}  // namespace vlmt

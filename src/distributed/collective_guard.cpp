#include "distributed/collective_guard.h"

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

CollectiveGuard::CollectiveGuard(DeviceCommOps& ops, int rank, double timeout_s, PollClock& clock)
    : ops_(ops), rank_(rank), timeout_s_(timeout_s), clock_(clock) {}

std::string CollectiveGuard::hint() const {
  return "a rank died, stopped calling collectives, or cannot reach its peers";
}

void CollectiveGuard::abort_locked(const std::string& reason) {
  if (aborted_) return;
  reason_ = reason;
  log::error(cat("NCCL on rank ", rank_, ": ", reason, "; aborting the communicator"));
  ops_.abort();
  aborted_ = true;
  pending_.clear();  // abort ended their kernels; what they wrote is not to be used
}

void CollectiveGuard::throw_if_aborted_locked() const {
  if (aborted_)
    throw Error(ExitCode::kFailure, cat("NCCL communicator on rank ", rank_, " was aborted: ", reason_));
}

void CollectiveGuard::settle(const std::string& what, const CommStatus& first, const std::string& why) {
  std::lock_guard<std::mutex> lock(mutex_);
  settle_locked(what, first, why);
}

void CollectiveGuard::settle_locked(const std::string& what, const CommStatus& first, const std::string& why) {
  bool polled = false;
  auto poll = [&]() { return polled ? ops_.async_status() : (polled = true, first); };
  try {
    await_comm(what, poll, [this]() { ops_.abort(); aborted_ = true; pending_.clear(); }, timeout_s_, why, clock_);
  } catch (const Error& e) {
    reason_ = e.what();
    log::error(cat("NCCL on rank ", rank_, ": ", reason_));
    throw;
  }
}

void CollectiveGuard::issue(const std::string& what, const std::function<CommStatus()>& enqueue) {
  std::lock_guard<std::mutex> lock(mutex_);
  throw_if_aborted_locked();
  call_since_.store(clock_.now_s());
  CommStatus first;
  try {
    first = enqueue();
  } catch (...) {
    call_since_.store(-1.0);
    throw;
  }
  call_since_.store(-1.0);
  settle_locked(what, first, hint());
  pending_.push_back(Pending{ops_.mark(), clock_.now_s(), what});
  check_async_locked();
  throw_if_aborted_locked();
}

void CollectiveGuard::check_pending_locked() {
  while (!aborted_ && !pending_.empty()) {
    Pending& p = pending_.front();
    const CommStatus state = p.mark->query();
    if (state.progress == CommProgress::kReady) {
      pending_.pop_front();
    } else if (state.progress == CommProgress::kFailed) {
      abort_locked(cat(p.what, ": ", state.error));
    } else {
      if (clock_.now_s() - p.issued_s > timeout_s_)
        abort_locked(cat(p.what, " did not complete within ", timeout_s_, " s (VLMT_NCCL_TIMEOUT_S; ", hint(), ")"));
      return;
    }
  }
}

void CollectiveGuard::check_async_locked() {
  if (aborted_) return;
  const CommStatus status = ops_.async_status();
  if (status.progress == CommProgress::kFailed) abort_locked(cat("asynchronous error: ", status.error));
}

void CollectiveGuard::wait_complete() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      check_pending_locked();
      if (pending_.empty()) check_async_locked();
      throw_if_aborted_locked();
      if (pending_.empty()) return;
    }
    clock_.pause();
  }
}

bool CollectiveGuard::watch_once() {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  // The holder is in a call bounded by its own deadline (settle); look again next turn.
  if (!lock.owns_lock()) return true;
  check_pending_locked();
  check_async_locked();
  return !aborted_;
}

bool CollectiveGuard::stuck_in_call() const {
  const double since = call_since_.load();
  return since >= 0.0 && clock_.now_s() - since > timeout_s_;
}

bool CollectiveGuard::aborted() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return aborted_;
}

CommEnding CollectiveGuard::end(bool unwinding) {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    return end_communicator(*this, unwinding);
  } catch (const std::exception& e) {  // finalize timed out or failed: settle aborted it
    log::error(cat("NCCL on rank ", rank_, ": ending the communicator: ", e.what()));
    return CommEnding::kAbort;
  }
}

CommHealth CollectiveGuard::health() {
  CommHealth h;
  h.aborted = aborted_;
  if (h.aborted) return h;
  h.async_error = ops_.async_status().progress == CommProgress::kFailed;
  for (const auto& p : pending_) h.in_flight += p.mark->query().progress == CommProgress::kReady ? 0 : 1;
  return h;
}

void CollectiveGuard::destroy_comm() {
  settle_locked("ncclCommFinalize", ops_.finalize(), "a peer did not finish its collectives");
  ops_.destroy();
}

void CollectiveGuard::abort_comm() {
  abort_locked(cat("ending the communicator while an error is unwinding or a collective is unfinished"));
}

}  // namespace vlmt

#pragma once
// Waiting for a device communicator with a deadline. A non-blocking NCCL communicator
// (config.blocking = 0) returns ncclInProgress from its initialisation, finalisation and from a
// collective whose enqueue must wait (e.g. for a connection to a peer); the caller then polls
// ncclCommGetAsyncError until it says success or an error. Without a deadline a bad bootstrap
// network or a rank that never arrives hangs the job until its time limit, so the wait ends
// after `timeout_s` (VLMT_NCCL_TIMEOUT_S) with the communicator aborted and an error that names
// the timeout. The loop is here, apart from NCCL and CUDA, so a CPU test drives it with a fake
// poll and a fake clock.
#include <functional>
#include <string>

namespace vlmt {

enum class CommProgress { kReady, kInProgress, kFailed };

struct CommStatus {
  CommProgress progress = CommProgress::kReady;
  std::string error;  // for kFailed: what the library said
};

// The time source of the waits: real (steady clock, 1 ms pauses) or a test's fake.
class PollClock {
 public:
  virtual ~PollClock() = default;
  virtual double now_s() = 0;
  virtual void pause() = 0;  // between two polls
};
PollClock& steady_poll_clock();

// Polls `poll` until it is ready and returns. When it fails, or is still in progress after
// `timeout_s` seconds, calls `abort` once and throws vlmt::Error naming `what`, the error or the
// timeout (and VLMT_NCCL_TIMEOUT_S), and `hint` (what usually causes it).
void await_comm(const std::string& what, const std::function<CommStatus()>& poll,
                const std::function<void()>& abort, double timeout_s, const std::string& hint,
                PollClock& clock = steady_poll_clock());

}  // namespace vlmt

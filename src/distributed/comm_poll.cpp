#include "distributed/comm_poll.h"

#include <chrono>
#include <thread>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

class SteadyPollClock : public PollClock {
 public:
  double now_s() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void pause() override { std::this_thread::sleep_for(std::chrono::milliseconds(1)); }
};

}  // namespace

PollClock& steady_poll_clock() {
  static SteadyPollClock clock;
  return clock;
}

void await_comm(const std::string& what, const std::function<CommStatus()>& poll,
                const std::function<void()>& abort, double timeout_s, const std::string& hint,
                PollClock& clock) {
  const double deadline = clock.now_s() + timeout_s;
  for (;;) {
    const CommStatus status = poll();
    if (status.progress == CommProgress::kReady) return;
    if (status.progress == CommProgress::kFailed) {
      abort();
      throw Error(ExitCode::kFailure, cat(what, " failed: ", status.error, "; the communicator was aborted"));
    }
    if (clock.now_s() > deadline) {
      abort();
      throw Error(ExitCode::kFailure,
                  cat(what, " did not finish within ", timeout_s, " s (VLMT_NCCL_TIMEOUT_S); ", hint,
                      "; the communicator was aborted"));
    }
    clock.pause();
  }
}

}  // namespace vlmt

#include "distributed/stop_signal.h"

#include <atomic>
#include <csignal>
#include <limits>

namespace vlmt {
namespace {

// A lock-free atomic is async-signal-safe to store to.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "signal flag must be lock-free");

extern "C" void on_stop_signal(int signal_number) { g_stop_signal.store(signal_number); }

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // do not break a blocking read/write with EINTR
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

bool stop_requested() { return g_stop_signal.load() != 0; }
int stop_signal() { return g_stop_signal.load(); }
void clear_stop_request() { g_stop_signal.store(0); }

Deadline::Deadline(double max_hours)
    : max_hours_(max_hours), start_(std::chrono::steady_clock::now()) {}

double Deadline::hours_left() const {
  if (max_hours_ <= 0) return std::numeric_limits<double>::infinity();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
  return max_hours_ - elapsed.count() / 3600.0;
}

bool Deadline::passed() const { return hours_left() <= 0; }

bool agree_to_stop(Communicator& comm, const Deadline& deadline) { return agree_to_stop(comm, deadline.passed()); }

bool agree_to_stop(Communicator& comm, bool deadline_passed) {
  const double local = (stop_requested() || deadline_passed) ? 1.0 : 0.0;
  return comm.all_reduce_scalar(local, ReduceOp::kMax) > 0.0;
}

}  // namespace vlmt

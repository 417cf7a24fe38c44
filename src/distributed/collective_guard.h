#pragma once
// The rules that keep a device communicator (NCCL) from hanging a rank or handing out results of
// a failed collective, apart from NCCL and CUDA so a CPU test drives them with fakes:
//  * every call on the communicator, the abort included, is made with one mutex held (NCCL
//    forbids concurrent calls on a communicator), so there is no half-aborted state: a thread
//    that takes the mutex sees the communicator either healthy or aborted, never a handle that
//    another thread is tearing down;
//  * a call that answers "in progress" (non-blocking communicator) is polled with a deadline
//    (distributed/comm_poll.h);
//  * each collective is followed by a completion mark (a CUDA event); the watchdog aborts the
//    communicator when the oldest mark is older than the timeout or the library reports an
//    asynchronous error; abort ends the stuck kernels, so the marks complete;
//  * wait_complete() returns only when every collective issued so far completed and the
//    communicator was not aborted: the buffers of an aborted collective may hold partial sums,
//    so their owner (the gradient synchroniser) must call it before anyone reads them.
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "distributed/comm_ending.h"
#include "distributed/comm_poll.h"

namespace vlmt {

// A point after the work enqueued so far on the current stream (a CUDA event); fakes in tests.
class CompletionMark {
 public:
  virtual ~CompletionMark() = default;
  virtual CommStatus query() = 0;  // ready once that work completed
};

// The library's side of the communicator. The guard makes every call with its mutex held.
class DeviceCommOps {
 public:
  virtual ~DeviceCommOps() = default;
  virtual CommStatus async_status() = 0;                // ncclCommGetAsyncError
  virtual std::unique_ptr<CompletionMark> mark() = 0;   // cudaEventRecord on the current stream
  virtual void abort() = 0;                             // ncclCommAbort: ends its kernels
  virtual CommStatus finalize() = 0;                    // ncclCommFinalize (may be in progress)
  virtual void destroy() = 0;                           // ncclCommDestroy, after finalize
};

class CollectiveGuard : private EndableComm {
 public:
  CollectiveGuard(DeviceCommOps& ops, int rank, double timeout_s, PollClock& clock = steady_poll_clock());

  // Enqueues one collective (`enqueue` returns the library's answer), settles an "in progress"
  // answer within the timeout, and marks its completion. Throws vlmt::Error when the
  // communicator is (or gets) aborted or the call fails.
  void issue(const std::string& what, const std::function<CommStatus()>& enqueue);
  // Settles a call that is no collective (initialisation): polls it within the timeout.
  void settle(const std::string& what, const CommStatus& first, const std::string& hint);
  // Returns once every collective issued so far completed on a healthy communicator; throws
  // vlmt::Error when one failed, timed out, or the communicator was aborted.
  void wait_complete();
  // The watchdog's turn (never blocks on the mutex): drops completed marks, aborts on an overdue
  // collective or an asynchronous error. False once the communicator is aborted.
  bool watch_once();
  bool aborted() const;
  // Lock-free, for the watchdog: a call into the library (an enqueue) has not returned for more
  // than the timeout. A non-blocking communicator returns at once; one that does not (e.g. a full
  // CUDA launch queue behind a stuck kernel) holds the mutex, so neither the watchdog nor anyone
  // can abort it: the process must end (the launcher then ends the job).
  bool stuck_in_call() const;
  // For the communicator's destructor (never throws): destroys on an orderly exit with nothing in
  // flight, aborts otherwise (distributed/comm_ending.h).
  CommEnding end(bool unwinding);

 private:
  struct Pending {
    std::unique_ptr<CompletionMark> mark;
    double issued_s;
    std::string what;
  };

  void settle_locked(const std::string& what, const CommStatus& first, const std::string& why);
  void abort_locked(const std::string& reason);
  void throw_if_aborted_locked() const;
  void check_pending_locked();
  void check_async_locked();
  std::string hint() const;

  // EndableComm, with mutex_ held.
  CommHealth health() override;
  void destroy_comm() override;
  void abort_comm() override;

  DeviceCommOps& ops_;
  int rank_;
  double timeout_s_;
  PollClock& clock_;
  mutable std::mutex mutex_;     // every ops_ call, pending_, aborted_, reason_
  std::atomic<double> call_since_{-1.0};  // when the running enqueue began; -1: none
  std::deque<Pending> pending_;  // collectives not yet seen complete, in issue order
  bool aborted_ = false;
  std::string reason_;
};

}  // namespace vlmt

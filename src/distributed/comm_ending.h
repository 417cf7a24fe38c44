#pragma once
// How a device communicator (NCCL) ends. ncclCommDestroy first completes the communicator's
// outstanding collectives; when a peer never issues its side (it failed, or this rank is
// unwinding from an error its peers do not share), that wait never ends and the rank's own error
// is never reported. ncclCommAbort ends them at once. So a communicator is destroyed only on an
// orderly exit with nothing in flight and no error, and aborted otherwise. The rule is here,
// apart from NCCL, so a test drives it with a fake communicator.
#include <exception>

namespace vlmt {

struct CommHealth {
  bool aborted = false;      // already aborted (the watchdog): nothing is left to end
  bool async_error = false;  // the library reported an asynchronous error
  int in_flight = 0;         // collectives issued and not yet seen complete
};

enum class CommEnding { kNothing, kDestroy, kAbort };

CommEnding choose_comm_ending(const CommHealth& health, bool unwinding);

// The communicator's side of its ending (NcclCommunicator; fakes in tests).
class EndableComm {
 public:
  virtual ~EndableComm() = default;
  virtual CommHealth health() = 0;
  virtual void destroy_comm() = 0;  // ncclCommDestroy: waits for outstanding collectives
  virtual void abort_comm() = 0;    // ncclCommAbort: ends them
};

// Asks `comm` for its health and calls exactly one of destroy_comm() and abort_comm() (neither
// when it was already aborted); returns which.
CommEnding end_communicator(EndableComm& comm, bool unwinding);

// Whether a destructor runs because an exception is unwinding the stack through its owner:
// construct it with the object, ask in the destructor.
class UnwindingProbe {
 public:
  bool unwinding() const { return std::uncaught_exceptions() > at_construction_; }

 private:
  int at_construction_ = std::uncaught_exceptions();
};

}  // namespace vlmt

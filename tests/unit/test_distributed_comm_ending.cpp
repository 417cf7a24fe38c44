// How a device communicator ends (distributed/comm_ending.h), with a fake communicator that counts the
// calls: destroy only on an orderly exit with nothing in flight, abort when an error is unwinding
// or the communicator is unhealthy, nothing when the watchdog already aborted it.
#include <gtest/gtest.h>

#include <stdexcept>

#include "distributed/comm_ending.h"

namespace vlmt {
namespace {

struct FakeComm : EndableComm {
  CommHealth state;
  int destroyed = 0, aborted = 0;
  CommHealth health() override { return state; }
  void destroy_comm() override { ++destroyed; }
  void abort_comm() override { ++aborted; }
};

TEST(CommEnding, OrderlyExitDestroys) {
  FakeComm c;
  EXPECT_EQ(end_communicator(c, false), CommEnding::kDestroy);
  EXPECT_EQ(c.destroyed, 1);
  EXPECT_EQ(c.aborted, 0);
}

TEST(CommEnding, UnwindingAborts) {
  FakeComm c;
  EXPECT_EQ(end_communicator(c, true), CommEnding::kAbort);
  EXPECT_EQ(c.destroyed, 0);
  EXPECT_EQ(c.aborted, 1);
}

TEST(CommEnding, UnhealthyAborts) {
  FakeComm pending;
  pending.state.in_flight = 1;  // a collective its peers may never join
  EXPECT_EQ(end_communicator(pending, false), CommEnding::kAbort);
  EXPECT_EQ(pending.aborted, 1);
  FakeComm failed;
  failed.state.async_error = true;
  EXPECT_EQ(end_communicator(failed, false), CommEnding::kAbort);
  EXPECT_EQ(failed.destroyed, 0);
}

TEST(CommEnding, AlreadyAbortedIsLeftAlone) {
  FakeComm c;
  c.state.aborted = true;
  EXPECT_EQ(end_communicator(c, true), CommEnding::kNothing);
  EXPECT_EQ(c.destroyed + c.aborted, 0);
}

// An owner whose destructor ends its communicator the way NcclCommunicator's does.
struct Owner {
  FakeComm& comm;
  UnwindingProbe probe;
  explicit Owner(FakeComm& c) : comm(c) {}
  ~Owner() { end_communicator(comm, probe.unwinding()); }
};

TEST(CommEnding, UnwindingProbeSeesAnExceptionLeavingTheOwnersScope) {
  FakeComm orderly, failing;
  { Owner o(orderly); }
  EXPECT_EQ(orderly.destroyed, 1);
  try {
    Owner o(failing);
    throw std::runtime_error("a rank fails mid-step");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(failing.aborted, 1);
  EXPECT_EQ(failing.destroyed, 0);
  // Made and destroyed inside a handler (an exception in flight before it existed): orderly.
  FakeComm inner;
  try {
    throw std::runtime_error("x");
  } catch (...) {
    Owner o(inner);
  }
  EXPECT_EQ(inner.destroyed, 1);
}

}  // namespace
}  // namespace vlmt

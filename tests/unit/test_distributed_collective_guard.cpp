// The NCCL communicator's decision logic without NCCL (distributed/comm_poll.h, distributed/collective_guard.h):
// fake library calls, fake completion marks and a fake clock drive the deadline loop, the abort
// state machine and the rule that results of an aborted collective are never handed out. One
// test runs a real watchdog thread against a real issuing thread and checks that no two library
// calls ever overlap and none follows the abort.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>

#include "core/error.h"
#include "error_text.h"
#include "distributed/collective_guard.h"
#include "distributed/comm_poll.h"
#include "distributed/grad_sync.h"
#include "distributed/local_communicator.h"

namespace vlmt {
namespace {

const CommStatus kReady{CommProgress::kReady, ""};
const CommStatus kBusy{CommProgress::kInProgress, ""};

// One second per pause, so a 5 s timeout takes a few polls.
struct FakeClock : PollClock {
  std::atomic<double> t{0.0};
  int pauses = 0;
  double now_s() override { return t.load(); }
  void pause() override {
    ++pauses;
    t.store(t.load() + 1.0);
  }
};

// A collective's completion: ready once the clock passes `ready_at`, or once the communicator
// was aborted (ncclCommAbort ends the kernels, so their events complete: the hazard).
struct FakeMark : CompletionMark {
  PollClock& clock;
  double ready_at;
  const std::atomic<bool>& aborted;
  FakeMark(PollClock& c, double at, const std::atomic<bool>& a) : clock(c), ready_at(at), aborted(a) {}
  CommStatus query() override { return aborted || clock.now_s() >= ready_at ? kReady : kBusy; }
};

struct FakeOps : DeviceCommOps {
  explicit FakeOps(PollClock& c) : clock(c) {}
  PollClock& clock;
  std::deque<CommStatus> async_answers;  // then ready
  CommStatus finalize_answer = kReady;
  double mark_delay = 0.0;  // collectives complete this long after they are issued
  std::atomic<bool> aborted{false};
  std::atomic<int> aborts{0}, finalizes{0}, destroys{0}, marks{0}, inside{0};
  std::atomic<bool> overlapped{false}, used_after_abort{false};

  // Every call: no other call at the same time, none after the abort.
  struct Call {
    FakeOps& ops;
    explicit Call(FakeOps& o) : ops(o) {
      if (ops.inside.fetch_add(1) != 0) ops.overlapped = true;
      if (ops.aborted) ops.used_after_abort = true;
    }
    ~Call() { ops.inside.fetch_sub(1); }
  };

  CommStatus async_status() override {
    Call call(*this);
    if (async_answers.empty()) return kReady;
    CommStatus s = async_answers.front();
    async_answers.pop_front();
    return s;
  }
  std::unique_ptr<CompletionMark> mark() override {
    Call call(*this);
    ++marks;
    return std::make_unique<FakeMark>(clock, clock.now_s() + mark_delay, aborted);
  }
  void abort() override {
    Call call(*this);
    ++aborts;
    aborted = true;
  }
  CommStatus finalize() override {
    Call call(*this);
    ++finalizes;
    return finalize_answer;
  }
  void destroy() override {
    Call call(*this);
    ++destroys;
  }
};

TEST(AwaitComm, ReturnsWhenReadyWithoutAborting) {
  FakeClock clock;
  int polls = 0, aborts = 0;
  await_comm("init", [&]() { return ++polls < 3 ? kBusy : kReady; }, [&]() { ++aborts; }, 5.0, "hint", clock);
  EXPECT_EQ(polls, 3);
  EXPECT_EQ(aborts, 0);
}

TEST(AwaitComm, TimeoutAbortsOnceAndNamesTheVariable) {
  FakeClock clock;
  int polls = 0, aborts = 0;
  const std::string msg = testing::error_text_of([&]() {
    await_comm("NCCL initialisation", [&]() { ++polls; return kBusy; }, [&]() { ++aborts; }, 5.0,
               "check NCCL_SOCKET_IFNAME", clock);
  });
  EXPECT_EQ(aborts, 1);
  EXPECT_GE(clock.now_s(), 5.0);
  EXPECT_LE(polls, 8);  // gave up soon after the deadline
  EXPECT_NE(msg.find("NCCL initialisation did not finish within 5 s"), std::string::npos) << msg;
  EXPECT_NE(msg.find("VLMT_NCCL_TIMEOUT_S"), std::string::npos) << msg;
  EXPECT_NE(msg.find("check NCCL_SOCKET_IFNAME"), std::string::npos) << msg;
}

TEST(AwaitComm, FailureAbortsAtOnce) {
  FakeClock clock;
  int aborts = 0;
  const std::string msg = testing::error_text_of([&]() {
    await_comm("init", []() { return CommStatus{CommProgress::kFailed, "remote process exited"}; },
               [&]() { ++aborts; }, 5.0, "", clock);
  });
  EXPECT_EQ(aborts, 1);
  EXPECT_EQ(clock.pauses, 0);
  EXPECT_NE(msg.find("remote process exited"), std::string::npos) << msg;
}

TEST(CollectiveGuard, InitInProgressThenReady) {
  FakeClock clock;
  FakeOps ops(clock);
  ops.async_answers = {kBusy, kBusy, kReady};
  CollectiveGuard guard(ops, 0, 10.0, clock);
  guard.settle("init", kBusy, "");
  EXPECT_FALSE(guard.aborted());
  EXPECT_EQ(ops.aborts, 0);
}

TEST(CollectiveGuard, InitThatNeverEndsIsAbortedWithTheTimeout) {
  FakeClock clock;
  FakeOps ops(clock);
  ops.async_answers.assign(100, kBusy);
  CollectiveGuard guard(ops, 3, 10.0, clock);
  const std::string msg = testing::error_text_of([&]() { guard.settle("NCCL initialisation", kBusy, "bootstrap"); });
  EXPECT_NE(msg.find("within 10 s (VLMT_NCCL_TIMEOUT_S)"), std::string::npos) << msg;
  EXPECT_TRUE(guard.aborted());
  EXPECT_EQ(ops.aborts, 1);
  // Nothing more reaches the library; the destructor's ending does nothing either.
  EXPECT_NE(testing::error_text_of([&]() { guard.issue("ncclAllReduce", []() { return kReady; }); }).find("was aborted"),
            std::string::npos);
  EXPECT_EQ(guard.end(false), CommEnding::kNothing);
  EXPECT_EQ(ops.aborts + ops.destroys + ops.finalizes, 1);
}

TEST(CollectiveGuard, EnqueueInProgressIsSettledWithinTheTimeout) {
  FakeClock clock;
  FakeOps ops(clock);
  ops.async_answers = {kBusy, kReady};
  CollectiveGuard guard(ops, 0, 10.0, clock);
  guard.issue("ncclAllReduce", []() { return kBusy; });
  EXPECT_EQ(ops.marks, 1);
  guard.wait_complete();
  ops.async_answers.assign(100, kBusy);
  EXPECT_THROW(guard.issue("ncclAllReduce", []() { return kBusy; }), Error);
  EXPECT_EQ(ops.aborts, 1);
  EXPECT_EQ(ops.marks, 1);  // the unfinished enqueue got no mark
}

TEST(CollectiveGuard, WaitCompleteWaitsForTheMarks) {
  FakeClock clock;
  FakeOps ops(clock);
  ops.mark_delay = 3.0;
  CollectiveGuard guard(ops, 0, 10.0, clock);
  guard.issue("ncclAllReduce", []() { return kReady; });
  guard.issue("ncclAllReduce", []() { return kReady; });
  guard.wait_complete();
  EXPECT_GE(clock.now_s(), 3.0);
  EXPECT_EQ(ops.aborts, 0);
  EXPECT_EQ(guard.end(false), CommEnding::kDestroy);
  EXPECT_EQ(ops.finalizes, 1);
  EXPECT_EQ(ops.destroys, 1);
}

// The watchdog aborts an overdue collective; its mark then completes (abort ended the kernel),
// but the caller that waits for it gets an error, never the partial result.
TEST(CollectiveGuard, AbortedCollectiveSurfacesAsAnError) {
  FakeClock clock;
  FakeOps ops(clock);
  ops.mark_delay = 1e9;  // a peer never joins
  CollectiveGuard guard(ops, 1, 10.0, clock);
  guard.issue("ncclAllReduce", []() { return kReady; });
  EXPECT_TRUE(guard.watch_once());
  clock.t = 11.0;
  EXPECT_FALSE(guard.watch_once());
  EXPECT_EQ(ops.aborts, 1);
  const std::string msg = testing::error_text_of([&]() { guard.wait_complete(); });
  EXPECT_NE(msg.find("ncclAllReduce did not complete within 10 s"), std::string::npos) << msg;
  EXPECT_FALSE(guard.watch_once());
  EXPECT_EQ(ops.aborts, 1);
}

TEST(CollectiveGuard, WaitCompleteEnforcesTheTimeoutWithoutAWatchdog) {
  FakeClock clock;
  FakeOps ops(clock);
  ops.mark_delay = 1e9;
  CollectiveGuard guard(ops, 0, 10.0, clock);
  guard.issue("ncclBroadcast", []() { return kReady; });
  EXPECT_THROW(guard.wait_complete(), Error);
  EXPECT_EQ(ops.aborts, 1);
  EXPECT_LE(clock.now_s(), 12.0);
}

TEST(CollectiveGuard, AsynchronousErrorAborts) {
  FakeClock clock;
  FakeOps ops(clock);
  CollectiveGuard guard(ops, 0, 10.0, clock);
  guard.issue("ncclAllReduce", []() { return kReady; });
  ops.async_answers = {CommStatus{CommProgress::kFailed, "unhandled system error"}};
  EXPECT_FALSE(guard.watch_once());
  EXPECT_NE(testing::error_text_of([&]() { guard.wait_complete(); }).find("unhandled system error"), std::string::npos);
}

TEST(CollectiveGuard, EndingAbortsWhenUnwindingOrFinalizeHangs) {
  FakeClock clock;
  FakeOps unwinding_ops(clock);
  CollectiveGuard unwinding(unwinding_ops, 0, 10.0, clock);
  EXPECT_EQ(unwinding.end(true), CommEnding::kAbort);
  EXPECT_EQ(unwinding_ops.aborts, 1);
  EXPECT_EQ(unwinding_ops.destroys, 0);

  FakeOps hanging_ops(clock);
  hanging_ops.finalize_answer = kBusy;
  hanging_ops.async_answers.assign(100, kBusy);
  CollectiveGuard hanging(hanging_ops, 0, 10.0, clock);
  EXPECT_NO_THROW(hanging.end(false));
  EXPECT_EQ(hanging_ops.finalizes, 1);
  EXPECT_EQ(hanging_ops.aborts, 1);
  EXPECT_EQ(hanging_ops.destroys, 0);
}

// An enqueue that does not return holds the mutex: the watchdog cannot abort, but it sees the
// call stuck once the timeout has passed (the NCCL watchdog then ends the process).
TEST(CollectiveGuard, EnqueueThatNeverReturnsIsSeenStuck) {
  FakeClock clock;
  FakeOps ops(clock);
  CollectiveGuard guard(ops, 0, 10.0, clock);
  std::atomic<bool> entered{false}, release{false};
  std::thread caller([&]() {
    guard.issue("ncclAllReduce", [&]() {
      entered = true;
      while (!release) std::this_thread::yield();
      return kReady;
    });
  });
  while (!entered) std::this_thread::yield();
  EXPECT_FALSE(guard.stuck_in_call());
  EXPECT_TRUE(guard.watch_once());  // the mutex is held: nothing to decide
  clock.t = 9.5;
  EXPECT_FALSE(guard.stuck_in_call());
  clock.t = 10.5;
  EXPECT_TRUE(guard.stuck_in_call());
  release = true;
  caller.join();
  EXPECT_FALSE(guard.stuck_in_call());
  EXPECT_EQ(ops.aborts, 0);
}

// Real threads, real clock: the watchdog polls while this thread issues and waits; one
// collective never completes. Exactly one abort, no overlapping library calls, none after it.
TEST(CollectiveGuard, WatchdogAndCallerNeverOverlap) {
  struct SteadyClock : PollClock {
    double now_s() override {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }
    void pause() override { std::this_thread::sleep_for(std::chrono::microseconds(100)); }
  } clock;
  FakeOps ops(clock);
  CollectiveGuard guard(ops, 0, 0.05, clock);
  std::atomic<bool> stop{false};
  std::thread watchdog([&]() {
    while (!stop && guard.watch_once()) std::this_thread::yield();
  });
  std::string msg;
  try {
    for (int i = 0; i < 100000; ++i) {
      ops.mark_delay = i == 50 ? 1e9 : 0.0;
      guard.issue("ncclAllReduce", []() { return kReady; });
      if (i % 10 == 0) guard.wait_complete();
    }
  } catch (const Error& e) {
    msg = e.what();
  }
  stop = true;
  watchdog.join();
  EXPECT_NE(msg.find("was aborted"), std::string::npos) << msg;
  EXPECT_EQ(ops.aborts, 1);
  EXPECT_FALSE(ops.overlapped);
  EXPECT_FALSE(ops.used_after_abort);
}

// The gradient synchroniser asks the communicator whether its collectives completed before any
// .grad points at the reduced buffer: a failure leaves .grad as it was.
TEST(GradSyncAbort, FailedCollectivesNeverReachGrad) {
  struct FailingComm : LocalCommunicator {
    bool fail = false;
    int waits = 0;
    void wait_complete() override {
      ++waits;
      if (fail) throw Error(ExitCode::kFailure, "NCCL communicator on rank 0 was aborted: test");
    }
  } comm;
  auto w = torch::ones({4}, torch::requires_grad());
  GradientSynchronizer sync(comm);
  sync.begin_step({{"w", w}});
  (w * 3).sum().backward();
  sync.finish();
  const void* reduced = w.grad().data_ptr();  // a successful step: .grad is the reduced buffer
  EXPECT_EQ(comm.waits, 1);

  comm.fail = true;
  w.mutable_grad() = torch::Tensor();
  sync.begin_step({{"w", w}});
  (w * 5).sum().backward();  // autograd's own local .grad
  EXPECT_THROW(sync.finish(), Error);
  EXPECT_EQ(comm.waits, 2);
  ASSERT_TRUE(w.grad().defined());
  EXPECT_NE(w.grad().data_ptr(), reduced);
}

}  // namespace
}  // namespace vlmt

// The order of stream operations around the gradient all-reduces (distributed/comm_streams.h), with
// fake streams and a fake communicator that write one log: each bucket's all-reduce runs on the
// comm stream after it waited for an event the compute stream recorded once the bucket's
// gradients were in place; the compute stream waits for the comm stream once, in finish(),
// before the flags all-reduce and before anything reads the averages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "distributed/comm_streams.h"
#include "distributed/grad_sync.h"
#include "distributed/local_communicator.h"

namespace vlmt {
namespace {

struct Log {
  std::vector<std::string> lines;
  bool on_comm = false;
  void add(const std::string& line) { lines.push_back(line); }
};

struct FakeStreams : StreamOps {
  Log& log;
  int events = 0;
  explicit FakeStreams(Log& l) : log(l) {}
  static const char* name(StreamRole r) { return r == StreamRole::kCompute ? "compute" : "comm"; }
  int record(StreamRole r) override {
    log.add(std::string(name(r)) + " record e" + std::to_string(events));
    return events++;
  }
  void wait(StreamRole r, int e) override { log.add(std::string(name(r)) + " wait e" + std::to_string(e)); }
  void on_comm(const std::function<void()>& work) override {
    log.on_comm = true;
    work();
    log.on_comm = false;
  }
};

// Logs each all-reduce with its size, its first value and the stream it was enqueued on.
struct LoggingComm : LocalCommunicator {
  Log& log;
  explicit LoggingComm(Log& l) : log(l) {}
  void all_reduce(torch::Tensor& t, ReduceOp op) override {
    log.add(std::string("all_reduce n=") + std::to_string(t.numel()) + " first=" +
            std::to_string(t.flatten()[0].item<double>()) + (log.on_comm ? " on comm" : " on compute"));
    LocalCommunicator::all_reduce(t, op);
  }
  void wait_complete() override { log.add("wait_complete"); }
};

TEST(CommStreams, BucketsRunOnTheCommStreamAfterTheirGradients) {
  Log log;
  LoggingComm comm(log);
  // Three parameters, 16 bytes per bucket: one bucket each, reduced in reverse order.
  auto a = torch::full({4}, 1.0, torch::requires_grad());
  auto b = torch::full({4}, 1.0, torch::requires_grad());
  auto c = torch::full({4}, 1.0, torch::requires_grad());
  GradientSynchronizer sync(comm, 16.0 / (1024 * 1024), std::make_unique<FakeStreams>(log));
  sync.begin_step({{"a", a}, {"b", b}, {"c", c}});
  (a * 2 + b * 3 + c * 5).sum().backward();
  log.add("backward done");
  sync.finish();
  const std::vector<std::string> expected = {
      // c's bucket first (reverse order), each after its gradient's event
      "compute record e0", "comm wait e0", "all_reduce n=4 first=5.000000 on comm",
      "compute record e1", "comm wait e1", "all_reduce n=4 first=3.000000 on comm",
      "compute record e2", "comm wait e2", "all_reduce n=4 first=2.000000 on comm",
      "backward done",
      // finish: the compute stream waits for the comm stream before the flags and the averages
      "comm record e3", "compute wait e3", "all_reduce n=3 first=1.000000 on compute",
      "wait_complete"};
  EXPECT_EQ(log.lines, expected);
  EXPECT_EQ(sync.buckets_reduced_in_backward(), 3);
  EXPECT_TRUE(torch::equal(c.grad(), torch::full({4}, 5.0)));
}

// A bucket left for finish() (its parameter got no gradient) also goes through the comm stream,
// and the join still comes once, after the last bucket.
TEST(CommStreams, BucketsReducedInFinishAlsoWaitForTheComputeStream) {
  Log log;
  LoggingComm comm(log);
  auto used = torch::full({2}, 1.0, torch::requires_grad());
  auto unused = torch::full({2}, 1.0, torch::requires_grad());
  GradientSynchronizer sync(comm, 8.0 / (1024 * 1024), std::make_unique<FakeStreams>(log));
  sync.begin_step({{"unused", unused}, {"used", used}});
  (used * 7).sum().backward();
  log.add("backward done");
  sync.finish();
  const std::vector<std::string> expected = {
      "compute record e0", "comm wait e0", "all_reduce n=2 first=7.000000 on comm", "backward done",
      "compute record e1", "comm wait e1", "all_reduce n=2 first=0.000000 on comm",
      "comm record e2", "compute wait e2", "all_reduce n=2 first=1.000000 on compute", "wait_complete"};
  EXPECT_EQ(log.lines, expected);
  EXPECT_FALSE(unused.grad().defined());
}

TEST(CommStreams, WithoutStreamsCollectivesRunInline) {
  CommStreams inline_streams(nullptr);
  int ran = 0;
  inline_streams.run_collective([&]() { ++ran; });
  inline_streams.join();
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(inline_streams.has_streams());
  EXPECT_EQ(make_stream_ops(torch::kCPU), nullptr);
}

}  // namespace
}  // namespace vlmt

// DSG agreement across ranks, with an in-test communicator whose "ranks" are threads of this
// process exchanging real tensors (the MPI/NCCL implementations live in src/distributed).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "distributed/communicator.h"
#include "train/dsg_agreement.h"
#include "train/dsg_schedule.h"

namespace vlmt {
namespace {

// Shared meeting point of the thread ranks: every collective deposits each rank's tensor,
// waits for all, combines, and waits again before the slots can be reused.
class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), slots_(size) {}
  int size() const { return size_; }

  torch::Tensor exchange(int rank, const torch::Tensor& mine,
                         const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>&
                             combine) {
    std::unique_lock<std::mutex> lock(mutex_);
    slots_[rank] = mine.clone();
    wait_for_all(lock);
    torch::Tensor result = combine(slots_);
    wait_for_all(lock);
    return result;
  }

 private:
  void wait_for_all(std::unique_lock<std::mutex>& lock) {
    const int64_t generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
  }
  int size_;
  std::vector<torch::Tensor> slots_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int64_t generation_ = 0;
};

class ThreadCommunicator : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  std::string backend() const override { return "threads"; }
  torch::Device device() const override { return torch::kCPU; }
  void all_reduce(torch::Tensor& tensor, ReduceOp op) override {
    tensor.copy_(group_.exchange(rank_, tensor, [op](const std::vector<torch::Tensor>& all) {
      torch::Tensor stacked = torch::stack(all);
      switch (op) {
        case ReduceOp::kMax: return std::get<0>(stacked.max(0));
        case ReduceOp::kMin: return std::get<0>(stacked.min(0));
        case ReduceOp::kSum: break;
      }
      return stacked.sum(0);
    }));
  }
  void broadcast(torch::Tensor& tensor, int root) override {
    tensor.copy_(group_.exchange(
        rank_, tensor, [root](const std::vector<torch::Tensor>& all) { return all[root]; }));
  }
  void barrier() override {
    group_.exchange(rank_, torch::zeros({1}), [](const auto& all) { return all[0]; });
  }

 private:
  ThreadGroup& group_;
  int rank_;
};

// Runs body(comm) on `ranks` threads; returns each rank's error message ("" = none).
std::vector<std::string> run_ranks(int ranks, const std::function<void(Communicator&)>& body) {
  ThreadGroup group(ranks);
  std::vector<std::string> errors(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(group, r);
      try {
        body(comm);
      } catch (const Error& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  return errors;
}

TEST(TrainDsgAgreement, PackedStateRoundTripsBitExactly) {
  DsgState s;
  s.mode = DsgMode::kStop;
  s.has_best = true;
  s.best = 0.1 + 0.2;
  s.num_bad_epochs = 1;
  s.cooldown_counter = 1;
  s.epochs = 17;
  const torch::Tensor packed = pack_dsg_state(s);
  EXPECT_EQ(packed.scalar_type(), torch::kInt64);
  EXPECT_TRUE(unpack_dsg_state(packed) == s);
  DsgState nudged = s;
  nudged.best = std::nextafter(s.best, 1.0);
  EXPECT_FALSE(unpack_dsg_state(packed) == nudged);
  EXPECT_THROW(unpack_dsg_state(torch::zeros({6})), Error);
}

TEST(TrainDsgAgreement, RanksWithTheSameGlobalScoresAgree) {
  std::vector<DsgState> decided(3);
  const auto errors = run_ranks(3, [&](Communicator& comm) {
    DsgMonitor monitor("nlvr2", DsgOptions{});
    for (double score : {0.70, 0.75, 0.75, 0.75}) {
      monitor.observe(10, score);
      decided[comm.rank()] = agree_dsg_state(comm, "nlvr2", 10, monitor.state());
    }
  });
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(decided[0].mode, DsgMode::kStop);
  EXPECT_TRUE(decided[1] == decided[0]);
  EXPECT_TRUE(decided[2] == decided[0]);
}

TEST(TrainDsgAgreement, AMismatchMakesEveryRankFail) {
  const auto errors = run_ranks(3, [&](Communicator& comm) {
    DsgMonitor monitor("nlvr2", DsgOptions{});
    monitor.observe(5, 0.70);
    // Rank 2 saw a different score (as a rank scoring its own validation shard would).
    monitor.observe(10, comm.rank() == 2 ? 0.69 : 0.80);
    agree_dsg_state(comm, "nlvr2", 10, monitor.state());
  });
  EXPECT_NE(errors[2].find("rank 2 computed"), std::string::npos) << errors[2];
  EXPECT_NE(errors[2].find("best=0.7, bad_epochs=1"), std::string::npos) << errors[2];
  EXPECT_NE(errors[2].find("rank 0 decided"), std::string::npos) << errors[2];
  EXPECT_NE(errors[2].find("best=0.8"), std::string::npos) << errors[2];
  for (int r : {0, 1}) {
    EXPECT_NE(errors[r].find("differs between rank 0 and rank 2"), std::string::npos)
        << errors[r];
    EXPECT_NE(errors[r].find("nlvr2"), std::string::npos);
  }
}

TEST(TrainDsgAgreement, ScheduleChecksAgreementWhenGivenACommunicator) {
  std::vector<std::string> modes(2);
  const auto errors = run_ranks(2, [&](Communicator& comm) {
    DsgSchedule schedule({{"vqa", 1, 2}, {"nlvr2", 4, 1}}, DsgOptions{});
    schedule.set_communicator(&comm);
    NullScheduleSink sink;
    for (double score : {0.5, 0.5, 0.5}) schedule.on_validation(1, 1, score, sink);
    modes[comm.rank()] = schedule.state_label(1, 1);
  });
  EXPECT_EQ(errors, (std::vector<std::string>{"", ""}));
  EXPECT_EQ(modes, (std::vector<std::string>{"stop", "stop"}));

  const auto mismatch = run_ranks(2, [&](Communicator& comm) {
    DsgSchedule schedule({{"vqa", 1, 2}}, DsgOptions{});
    schedule.set_communicator(&comm);
    NullScheduleSink sink;
    schedule.on_validation(0, 2, comm.rank() == 0 ? 0.5 : 0.6, sink);
  });
  EXPECT_NE(mismatch[0], "");
  EXPECT_NE(mismatch[1].find("rank 1 computed"), std::string::npos) << mismatch[1];
}

}  // namespace
}  // namespace vlmt

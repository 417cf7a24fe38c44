#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include <boost/archive/text_iarchive.hpp>
#include <boost/archive/text_oarchive.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "data/loader.h"
#include "tasks/task_data.h"
#include "data/sampler.h"
#include "test_data_root.h"

using namespace vlmt;

// As the released DataLoaders over PyTorch's DistributedSampler: 100 items on 3 ranks are
// padded to 102 (the permutation's first 2 items again), 34 per rank, 5 batches of 7 with a
// last batch of 6 on every rank.
TEST(DistributedSampler, KeepsThePartialLastBatchLikeTheReleasedLoaders) {
  const int world = 3;
  const int64_t n = 100, batch = 7;
  std::multiset<int64_t> seen;
  for (int rank = 0; rank < world; ++rank) {
    DistributedSampler s(n, batch, rank, world, 42);
    EXPECT_EQ(s.batches_per_epoch(), 5);  // ceil(34 / 7)
    for (int64_t b = 0; b < s.batches_per_epoch(); ++b) {
      auto idx = s.batch_indices(0, b);
      EXPECT_EQ(static_cast<int64_t>(idx.size()), b + 1 < s.batches_per_epoch() ? batch : 6);
      for (int64_t i : idx) {
        EXPECT_TRUE(i >= 0 && i < n);
        seen.insert(i);
      }
    }
  }
  EXPECT_EQ(seen.size(), 102u);
  const auto perm = DistributedSampler(n, n, 0, 1, 42).batch_indices(0, 0);  // the same permutation
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen.count(i), i == perm[0] || i == perm[1] ? 2u : 1u) << i;
}

TEST(DistributedSampler, DropLastKeepsOnlyFullBatchesOfDisjointShards) {
  const int world = 3;
  const int64_t n = 100, batch = 7;
  std::set<int64_t> seen;
  for (int rank = 0; rank < world; ++rank) {
    DistributedSampler s(n, batch, rank, world, 42, /*shuffle=*/true, /*drop_last=*/true);
    EXPECT_EQ(s.batches_per_epoch(), 4);  // 33 items per rank → 4 full batches of 7
    for (int64_t b = 0; b < s.batches_per_epoch(); ++b) {
      auto idx = s.batch_indices(0, b);
      EXPECT_EQ(static_cast<int64_t>(idx.size()), batch);
      for (int64_t i : idx) {
        EXPECT_TRUE(i >= 0 && i < n);
        EXPECT_TRUE(seen.insert(i).second) << "index " << i << " drawn twice";
      }
    }
  }
  EXPECT_EQ(seen.size(), 84u);
}

TEST(DistributedSampler, EveryEpochIsAPermutationDeterminedBySeedAndEpoch) {
  DistributedSampler a(50, 50, 0, 1, 9), b(50, 50, 0, 1, 9), c(50, 50, 0, 1, 10);
  auto e0 = a.batch_indices(0, 0), e1 = a.batch_indices(1, 0);
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e1, b.batch_indices(1, 0));
  EXPECT_EQ(e0, b.batch_indices(0, 0));
  EXPECT_NE(e0, c.batch_indices(0, 0));
}

TEST(DistributedSampler, EvaluationModeCoversEverythingOnce) {
  std::vector<int64_t> all;
  int64_t batches = -1;
  for (int rank = 0; rank < 3; ++rank) {
    DistributedSampler s(10, 2, rank, 3, 0, /*shuffle=*/false, /*drop_last=*/false);
    if (batches >= 0) {
      EXPECT_EQ(s.batches_per_epoch(), batches);
    }
    batches = s.batches_per_epoch();
    for (int64_t b = 0; b < batches; ++b)
      for (int64_t i : s.batch_indices(0, b)) all.push_back(i);
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(DistributedSampler, StateSerialisesAndResumesExactly) {
  DistributedSampler s(40, 4, 1, 2, 5);
  std::vector<std::vector<int64_t>> drawn;
  for (int k = 0; k < 7; ++k) drawn.push_back(s.next());  // crosses into epoch 1
  EXPECT_EQ(s.epoch(), 1);
  EXPECT_EQ(s.position(), 2);
  std::stringstream archive;
  {
    boost::archive::text_oarchive out(archive);
    out << s;
  }
  DistributedSampler resumed(40, 4, 1, 2, 5);
  {
    boost::archive::text_iarchive in(archive);
    in >> resumed;
  }
  EXPECT_EQ(resumed.epoch(), 1);
  EXPECT_EQ(resumed.position(), 2);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(resumed.next(), s.next());
  EXPECT_THROW(resumed.set_state(0, 99), CheckpointError);
}

namespace {
std::shared_ptr<const TaskDataset> retrieval_dataset() {
  static fixture::TestRoot root = fixture::make_test_root("loader");
  return make_task_dataset(builtin_task("retrieval_coco"), "train", root.data_config(), fixture::small_hyper(),
                           fixture::TestRoot::model_config());
}

void expect_same(const Batch& a, const Batch& b) {
  EXPECT_TRUE(torch::equal(a.input_ids, b.input_ids));
  EXPECT_TRUE(torch::equal(a.features, b.features));
  EXPECT_TRUE(torch::equal(a.target, b.target));
  EXPECT_EQ(a.image_ids, b.image_ids);
}

// A dataset whose batch is its item indices (target), failing on item `broken` (-1: none): cheap
// enough to run through many epochs, and to check error propagation from the workers.
class IndexDataset : public TaskDataset {
 public:
  explicit IndexDataset(int64_t size = 8, int64_t broken = 5)
      : TaskDataset(DatasetContext{}), size_(size), broken_(broken) {}
  int64_t size() const override { return size_; }
  std::string item_id(int64_t i) const override { return std::to_string(i); }
  std::vector<std::string> item_images(int64_t) const override { return {}; }
  Batch get_batch(const std::vector<int64_t>& indices, Draws&) const override {
    for (int64_t i : indices)
      if (i == broken_) throw DataError("item " + std::to_string(i) + " is broken");
    Batch b;
    b.size = static_cast<int64_t>(indices.size());
    b.target = torch::tensor(indices);
    return b;
  }

 private:
  int64_t size_, broken_;
};
}  // namespace

TEST(TaskLoader, PrefetchDoesNotChangeTheBatches) {
  auto ds = retrieval_dataset();
  TaskLoader sync(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 0);
  TaskLoader ahead(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 3);
  EXPECT_EQ(sync.batches_per_epoch(), 3);
  for (int k = 0; k < 7; ++k) {
    Batch a = sync.next(), b = ahead.next();
    expect_same(a, b);
    EXPECT_EQ(sync.epoch_completed(), k % 3 == 2);
  }
  EXPECT_EQ(ahead.epoch(), 2);
  EXPECT_EQ(ahead.position(), 1);
}

TEST(TaskLoader, SeveralWorkersHandOutTheSameBatchesInOrder) {
  auto ds = retrieval_dataset();
  TaskLoader sync(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 0);
  TaskLoader parallel(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 2, false, /*threads=*/3);
  for (int k = 0; k < 10; ++k) expect_same(sync.next(), parallel.next());
  parallel.restore(0, 1);
  sync.restore(0, 1);
  for (int k = 0; k < 4; ++k) expect_same(sync.next(), parallel.next());
}

// Workers reach the next epoch while others still build the last one's batches: each must use its
// own epoch's permutation (the sampler caches one; read unguarded by the workers, 3 of 300
// repetitions of the TaskLoader tests handed out a wrong batch or crashed).
TEST(TaskLoader, WorkersCrossingEpochsKeepEachEpochsPermutation) {
  auto ds = std::make_shared<IndexDataset>(6, -1);
  for (uint64_t run = 0; run < 20; ++run) {
    TaskLoader sync(ds, DistributedSampler(6, 2, 0, 1, run), 0, 0);
    TaskLoader parallel(ds, DistributedSampler(6, 2, 0, 1, run), 0, 4, false, /*threads=*/4);
    for (int k = 0; k < 60; ++k) {
      const Batch want = sync.next();
      ASSERT_TRUE(torch::equal(parallel.next().target, want.target)) << "run " << run << ", batch " << k;
    }
  }
}

TEST(TaskLoader, SeveralWorkersRethrowAFailedBatchInItsTurn) {
  auto ds = std::make_shared<IndexDataset>();
  TaskLoader loader(ds, DistributedSampler(8, 1, 0, 1, 0, /*shuffle=*/false), 0, 4, false, /*threads=*/4);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(loader.next().target[0].item<int64_t>(), k);
  EXPECT_THROW(loader.next(), DataError);
  EXPECT_THROW(loader.next(), DataError);
  loader.restore(0, 6);
  EXPECT_EQ(loader.next().target[0].item<int64_t>(), 6);
  EXPECT_EQ(loader.next().target[0].item<int64_t>(), 7);
  EXPECT_EQ(loader.next().target[0].item<int64_t>(), 0);
}

TEST(TaskLoader, EveryWorkerRunsTheSetupFirstInItsOwnThread) {
  auto ds = retrieval_dataset();
  std::mutex m;
  std::set<std::thread::id> threads;
  auto setup = [&] {
    std::lock_guard<std::mutex> lock(m);
    threads.insert(std::this_thread::get_id());
  };
  {
    TaskLoader loader(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 2, false, /*threads=*/3, setup);
    loader.next();
  }
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  TaskLoader failing(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 2, false, 1,
                     [] { throw DataError("no device for this thread"); });
  EXPECT_THROW(failing.next(), DataError);
  EXPECT_THROW(failing.next(), DataError);
}

TEST(TaskLoader, RestoreContinuesWithTheSameBatch) {
  auto ds = retrieval_dataset();
  TaskLoader first(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 2);
  for (int k = 0; k < 4; ++k) first.next();
  const int64_t epoch = first.epoch(), position = first.position();
  Batch expected = first.next();
  TaskLoader resumed(ds, DistributedSampler(ds->size(), 2, 0, 1, 3), 11, 2);
  resumed.next();  // prefetched batches of the old position must be discarded
  resumed.restore(epoch, position);
  expect_same(resumed.next(), expected);
}

TEST(TaskLoader, WorkerExceptionIsRethrownInNext) {
  auto ds = std::make_shared<IndexDataset>();
  TaskLoader loader(ds, DistributedSampler(8, 1, 0, 1, 0, /*shuffle=*/false), 0, 2);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(loader.next().target[0].item<int64_t>(), k);
  try {
    loader.next();
    FAIL() << "expected the worker's error";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "item 5 is broken");
  }
  EXPECT_THROW(loader.next(), DataError);  // the failed batch is not skipped
  loader.restore(0, 6);
  EXPECT_EQ(loader.next().target[0].item<int64_t>(), 6);
}

#pragma once
// Per-task loader: a DistributedSampler feeding a TaskDataset, with one background thread that
// keeps up to `prefetch_batches` batches ready. Batch (epoch, position) is always built with
// draws seeded by batch_seed(seed, epoch, position, rank), so the stream of batches is identical
// with or without prefetching and after a restore. An exception thrown while building a batch is
// re-thrown by the next() that would have returned that batch, with the same message.
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "data/sampler.h"
#include "data/task_dataset.h"

namespace vlmt {

class TaskLoader {
 public:
  // prefetch_batches = 0 builds every batch synchronously inside next(). pin_memory: batches are
  // returned in page-locked memory (pinned by the worker thread when prefetching), for
  // asynchronous host-to-GPU copies.
  TaskLoader(std::shared_ptr<const TaskDataset> dataset, DistributedSampler sampler, uint64_t seed,
             int prefetch_batches, bool pin_memory = false);
  ~TaskLoader();  // stops and joins the worker
  TaskLoader(const TaskLoader&) = delete;
  TaskLoader& operator=(const TaskLoader&) = delete;

  // The batch at the current state; then advances (wrapping into the next epoch).
  Batch next();
  // State of the batches handed out so far (what a checkpoint must store).
  int64_t epoch() const { return epoch_; }
  int64_t position() const { return position_; }
  int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }
  // True when the last next() returned the final batch of an epoch.
  bool epoch_completed() const { return position_ == 0 && handed_out_ > 0; }
  // Continue from (epoch, position): drops prefetched batches and restarts the worker there.
  void restore(int64_t epoch, int64_t position);
  const TaskDataset& dataset() const { return *dataset_; }
  const DistributedSampler& sampler() const { return sampler_; }

 private:
  struct Slot {
    int64_t epoch, position;
    Batch batch;
    std::exception_ptr error;
  };
  Batch build(int64_t epoch, int64_t position) const;
  void start_worker();
  void stop_worker();
  void worker_loop(int64_t epoch, int64_t position);

  std::shared_ptr<const TaskDataset> dataset_;
  DistributedSampler sampler_;
  uint64_t seed_;
  int prefetch_;
  bool pin_memory_;
  int64_t epoch_ = 0, position_ = 0, handed_out_ = 0;

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Slot> queue_;
  bool stop_ = false;
};

}  // namespace vlmt

#pragma once
// Per-task loader: a DistributedSampler feeding a TaskDataset, with `threads` background workers
// that keep up to max(prefetch_batches, threads) batches built or being built, handed out in
// order. Batch (epoch, position) is always built with draws seeded by batch_seed(seed, epoch,
// position, rank), so the stream of batches is identical with or without prefetching, at any
// number of workers and after a restore. An exception thrown while building a batch is re-thrown
// by the next() that would have returned that batch, with the same message.
#include <condition_variable>
#include <map>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/sampler.h"
#include "data/task_dataset.h"

namespace vlmt {

class TaskLoader {
 public:
  // prefetch_batches = 0 builds every batch synchronously inside next() (no worker). threads:
  // workers building batches in parallel (each batch by one worker). pin_memory: batches are
  // returned in page-locked memory (pinned by the worker when prefetching), for asynchronous
  // host-to-GPU copies. worker_setup runs first in every worker thread (the trainer makes the
  // rank's GPU the thread's current device there, so pinned memory is registered with it).
  TaskLoader(std::shared_ptr<const TaskDataset> dataset, DistributedSampler sampler, uint64_t seed,
             int prefetch_batches, bool pin_memory = false, int threads = 1,
             std::function<void()> worker_setup = {});
  ~TaskLoader();  // stops and joins the workers
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
  // Continue from (epoch, position): drops prefetched batches and restarts the workers there.
  void restore(int64_t epoch, int64_t position);
  const TaskDataset& dataset() const { return *dataset_; }
  const DistributedSampler& sampler() const { return sampler_; }

 private:
  struct Slot {
    int64_t epoch, position;
    Batch batch;
    std::exception_ptr error;
  };
  Batch build(const std::vector<int64_t>& indices, int64_t epoch, int64_t position) const;
  void start_workers();
  void stop_workers();
  void worker_loop();
  void advance(int64_t& epoch, int64_t& position) const;

  std::shared_ptr<const TaskDataset> dataset_;
  DistributedSampler sampler_;
  uint64_t seed_;
  int prefetch_;
  bool pin_memory_;
  int threads_;
  std::function<void()> worker_setup_;
  int64_t epoch_ = 0, position_ = 0, handed_out_ = 0;

  // Workers claim batches in order (claim_*; `claimed_` counts them since the last start) and
  // file them under their claim number; next() takes claim number `taken_`.
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<int64_t, Slot> ready_;
  int64_t claim_epoch_ = 0, claim_position_ = 0, claimed_ = 0, taken_ = 0;
  bool stop_ = false;
};

}  // namespace vlmt

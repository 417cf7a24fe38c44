#include "data/loader.h"

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

TaskLoader::TaskLoader(std::shared_ptr<const TaskDataset> dataset, DistributedSampler sampler,
                       uint64_t seed, int prefetch_batches, bool pin_memory)
    : dataset_(std::move(dataset)), sampler_(std::move(sampler)), seed_(seed),
      prefetch_(std::max(0, prefetch_batches)), pin_memory_(pin_memory) {
  if (!dataset_) throw DataError("TaskLoader needs a dataset");
  if (sampler_.dataset_size() != dataset_->size())
    throw DataError(cat("sampler over ", sampler_.dataset_size(), " items but dataset ",
                        dataset_->task_key(), "/", dataset_->split(), " has ", dataset_->size()));
  epoch_ = sampler_.epoch();
  position_ = sampler_.position();
  start_worker();
}

TaskLoader::~TaskLoader() { stop_worker(); }

Batch TaskLoader::build(int64_t epoch, int64_t position) const {
  RngDraws draws(batch_seed(seed_, epoch, position, sampler_.rank()));
  Batch batch = dataset_->get_batch(sampler_.batch_indices(epoch, position), draws);
  return pin_memory_ ? batch.pin_memory() : batch;
}

void TaskLoader::start_worker() {
  if (prefetch_ == 0 || sampler_.batches_per_epoch() == 0) return;
  stop_ = false;
  worker_ = std::thread(&TaskLoader::worker_loop, this, epoch_, position_);
}

void TaskLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
  queue_.clear();
}

void TaskLoader::worker_loop(int64_t epoch, int64_t position) {
  // Building uses its own rng per batch, so intra-op parallelism is the only thing shared with
  // the training thread; one thread suffices to stay ahead on 2 cores.
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || static_cast<int>(queue_.size()) < prefetch_; });
      if (stop_) return;
    }
    Slot slot{epoch, position, {}, nullptr};
    try {
      slot.batch = build(epoch, position);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      queue_.push_back(std::move(slot));
    }
    changed_.notify_all();
    if (++position == sampler_.batches_per_epoch()) {
      ++epoch;
      position = 0;
    }
  }
}

Batch TaskLoader::next() {
  if (sampler_.batches_per_epoch() == 0)
    throw DataError(cat("task ", dataset_->task_key(), "/", dataset_->split(), ": ", dataset_->size(),
                        " items give no full batch of ", sampler_.batch_size(), " on each of ",
                        sampler_.world_size(), " ranks"));
  Batch batch;
  if (prefetch_ == 0) {
    batch = build(epoch_, position_);
  } else {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty(); });
      slot = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();
    if (slot.epoch != epoch_ || slot.position != position_)
      throw Error(ExitCode::kFailure, cat("loader out of step: got batch (", slot.epoch, ", ", slot.position,
                                          ") expected (", epoch_, ", ", position_, ")"));
    if (slot.error) {
      // Resume from the failed batch on the next call rather than skipping it silently.
      stop_worker();
      start_worker();
      std::rethrow_exception(slot.error);
    }
    batch = std::move(slot.batch);
  }
  ++handed_out_;
  if (++position_ == sampler_.batches_per_epoch()) {
    ++epoch_;
    position_ = 0;
  }
  sampler_.set_state(epoch_, position_);
  return batch;
}

void TaskLoader::restore(int64_t epoch, int64_t position) {
  stop_worker();
  sampler_.set_state(epoch, position);
  epoch_ = epoch;
  position_ = position;
  handed_out_ = 0;
  start_worker();
}

}  // namespace vlmt

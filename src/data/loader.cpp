#include "data/loader.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

TaskLoader::TaskLoader(std::shared_ptr<const TaskDataset> dataset, DistributedSampler sampler,
                       uint64_t seed, int prefetch_batches, bool pin_memory, int threads,
                       std::function<void()> worker_setup)
    : dataset_(std::move(dataset)), sampler_(std::move(sampler)), seed_(seed),
      prefetch_(std::max(0, prefetch_batches)), pin_memory_(pin_memory), threads_(std::max(1, threads)),
      worker_setup_(std::move(worker_setup)) {
  if (!dataset_) throw DataError("TaskLoader needs a dataset");
  if (sampler_.dataset_size() != dataset_->size())
    throw DataError(cat("sampler over ", sampler_.dataset_size(), " items but dataset ",
                        dataset_->task_key(), "/", dataset_->split(), " has ", dataset_->size()));
  epoch_ = sampler_.epoch();
  position_ = sampler_.position();
  start_workers();
}

TaskLoader::~TaskLoader() { stop_workers(); }

Batch TaskLoader::build(const std::vector<int64_t>& indices, int64_t epoch, int64_t position) const {
  RngDraws draws(batch_seed(seed_, epoch, position, sampler_.rank()));
  Batch batch = dataset_->get_batch(indices, draws);
  return pin_memory_ ? batch.pin_memory() : batch;
}

void TaskLoader::advance(int64_t& epoch, int64_t& position) const {
  if (++position == sampler_.batches_per_epoch()) {
    ++epoch;
    position = 0;
  }
}

void TaskLoader::start_workers() {
  if (prefetch_ == 0 || sampler_.batches_per_epoch() == 0) return;
  stop_ = false;
  claim_epoch_ = epoch_;
  claim_position_ = position_;
  claimed_ = taken_ = 0;
  for (int t = 0; t < threads_; ++t) workers_.emplace_back(&TaskLoader::worker_loop, this);
}

void TaskLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  ready_.clear();
}

void TaskLoader::worker_loop() {
  // Every batch has its own rng, so workers share nothing but the claim counter; one worker
  // still builds one batch at a time, in the intra-op threads it is given.
  const int64_t window = std::max<int64_t>(prefetch_, threads_);
  // A failed setup is handed out like a failed batch: by the next() that takes this worker's
  // first batch; the worker then ends.
  std::exception_ptr setup_error;
  if (worker_setup_) {
    try {
      worker_setup_();
    } catch (...) {
      setup_error = std::current_exception();
    }
  }
  for (;;) {
    int64_t claim;
    Slot slot{0, 0, {}, setup_error};
    std::vector<int64_t> indices;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || claimed_ - taken_ < window; });
      if (stop_) return;
      claim = claimed_++;
      slot.epoch = claim_epoch_;
      slot.position = claim_position_;
      advance(claim_epoch_, claim_position_);
      // Under the lock: the sampler caches one epoch's permutation, which a worker crossing into
      // the next epoch would rebuild while another reads it.
      if (!slot.error) {
        try {
          indices = sampler_.batch_indices(slot.epoch, slot.position);
        } catch (...) {
          slot.error = std::current_exception();
        }
      }
    }
    if (!slot.error) {
      try {
        slot.batch = build(indices, slot.epoch, slot.position);
      } catch (...) {
        slot.error = std::current_exception();
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      ready_.emplace(claim, std::move(slot));
    }
    changed_.notify_all();
    if (setup_error) return;
  }
}

Batch TaskLoader::next() {
  if (sampler_.batches_per_epoch() == 0)
    throw DataError(cat("task ", dataset_->task_key(), "/", dataset_->split(), ": ", dataset_->size(),
                        " items give no full batch of ", sampler_.batch_size(), " on each of ",
                        sampler_.world_size(), " ranks"));
  Batch batch;
  if (prefetch_ == 0) {
    batch = build(sampler_.batch_indices(epoch_, position_), epoch_, position_);
  } else {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return ready_.count(taken_) != 0; });
      auto it = ready_.find(taken_);
      slot = std::move(it->second);
      ready_.erase(it);
      ++taken_;
    }
    changed_.notify_all();
    if (slot.epoch != epoch_ || slot.position != position_)
      throw Error(ExitCode::kFailure, cat("loader out of step: got batch (", slot.epoch, ", ", slot.position,
                                          ") expected (", epoch_, ", ", position_, ")"));
    if (slot.error) {
      // Resume from the failed batch on the next call rather than skipping it silently.
      stop_workers();
      start_workers();
      std::rethrow_exception(slot.error);
    }
    batch = std::move(slot.batch);
  }
  ++handed_out_;
  advance(epoch_, position_);
  sampler_.set_state(epoch_, position_);
  return batch;
}

void TaskLoader::restore(int64_t epoch, int64_t position) {
  stop_workers();
  sampler_.set_state(epoch, position);
  epoch_ = epoch;
  position_ = position;
  handed_out_ = 0;
  start_workers();
}

}  // namespace vlmt

#pragma once
// Distributed sampler. Training mode: every epoch a permutation of all items from (seed, epoch);
// rank r takes permutation slots r, r + world, r + 2·world, ... As the released DataLoaders
// (PyTorch's DistributedSampler, drop_last off): the permutation is extended by its own first
// items to a multiple of the ranks, so every rank has ceil(N / world) items, and an epoch is
// ceil(that / batch) batches, the last one partial (the same size on every rank). drop_last =
// true instead drops the tail that does not fill a whole shard or a whole batch: floor / floor,
// every batch full. Evaluation mode (shuffle = false): items in order, rank r gets r, r + world,
// ... without padding; every rank reports the same batches_per_epoch and a rank whose shard
// runs out earlier gets smaller or EMPTY trailing batches (take part in collectives anyway).
//
// State = (epoch, position = next batch within the epoch), serialisable so a resumed run
// continues with exactly the batch it would have drawn next.
#include <cstdint>
#include <vector>

namespace vlmt {

class DistributedSampler {
 public:
  DistributedSampler() = default;
  DistributedSampler(int64_t dataset_size, int64_t batch_size, int rank, int world_size,
                     uint64_t seed, bool shuffle = true, bool drop_last = false);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // Item indices of batch `batch` of `epoch` for this rank (pure: independent of the state).
  std::vector<int64_t> batch_indices(int64_t epoch, int64_t batch) const;
  // Batch at the current state, then advances; wraps to the next epoch after the last batch.
  std::vector<int64_t> next();

  int64_t epoch() const { return epoch_; }
  int64_t position() const { return position_; }
  void set_epoch(int64_t epoch) { epoch_ = epoch; position_ = 0; }
  void set_state(int64_t epoch, int64_t position);
  int64_t dataset_size() const { return size_; }
  int64_t batch_size() const { return batch_size_; }
  int rank() const { return rank_; }
  int world_size() const { return world_; }
  uint64_t seed() const { return seed_; }

  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar & epoch_;
    ar & position_;
  }

 private:
  const std::vector<int64_t>& permutation(int64_t epoch) const;

  int64_t size_ = 0, batch_size_ = 1;
  int rank_ = 0, world_ = 1;
  uint64_t seed_ = 0;
  bool shuffle_ = true, drop_last_ = true;
  int64_t per_rank_ = 0, batches_per_epoch_ = 0;
  int64_t epoch_ = 0, position_ = 0;
  // One epoch's permutation, kept for its batches: const calls are not safe from two threads at
  // once (TaskLoader's workers call batch_indices under its lock).
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<int64_t> cached_perm_;
};

// Seed of the RNG used for one batch, from (seed, epoch, batch, rank): batches are built the
// same whatever thread builds them and in whatever order.
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch, int rank);

}  // namespace vlmt

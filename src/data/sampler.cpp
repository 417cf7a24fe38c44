#include "data/sampler.h"

#include <numeric>
#include <random>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

namespace {
uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch, int rank) {
  return mix(mix(mix(mix(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(batch)) ^
             static_cast<uint64_t>(rank));
}

DistributedSampler::DistributedSampler(int64_t dataset_size, int64_t batch_size, int rank,
                                       int world_size, uint64_t seed, bool shuffle, bool drop_last)
    : size_(dataset_size), batch_size_(batch_size), rank_(rank), world_(world_size), seed_(seed),
      shuffle_(shuffle), drop_last_(drop_last) {
  if (batch_size <= 0) throw ConfigError(cat("sampler batch size must be positive, got ", batch_size));
  if (world_size <= 0 || rank < 0 || rank >= world_size)
    throw ConfigError(cat("sampler rank ", rank, " outside world of size ", world_size));
  if (dataset_size < 0) throw DataError(cat("negative dataset size ", dataset_size));
  if (drop_last_) {
    per_rank_ = size_ / world_;
    batches_per_epoch_ = per_rank_ / batch_size_;
  } else {
    per_rank_ = (size_ + world_ - 1) / world_;
    batches_per_epoch_ = (per_rank_ + batch_size_ - 1) / batch_size_;
  }
}

const std::vector<int64_t>& DistributedSampler::permutation(int64_t epoch) const {
  if (cached_epoch_ != epoch) {
    cached_perm_.resize(size_);
    std::iota(cached_perm_.begin(), cached_perm_.end(), 0);
    if (shuffle_) {
      // Own Fisher–Yates on mt19937_64 (std::shuffle's algorithm is implementation-defined).
      std::mt19937_64 rng(mix(seed_) ^ mix(static_cast<uint64_t>(epoch) + 0x51ED));
      for (int64_t i = size_ - 1; i > 0; --i) {
        int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
        std::swap(cached_perm_[i], cached_perm_[j]);
      }
    }
    cached_epoch_ = epoch;
  }
  return cached_perm_;
}

std::vector<int64_t> DistributedSampler::batch_indices(int64_t epoch, int64_t batch) const {
  if (batch < 0 || batch >= batches_per_epoch_)
    throw DataError(cat("batch ", batch, " outside epoch of ", batches_per_epoch_, " batches"));
  const auto& perm = permutation(epoch);
  std::vector<int64_t> out;
  out.reserve(batch_size_);
  for (int64_t k = batch * batch_size_; k < std::min(per_rank_, (batch + 1) * batch_size_); ++k) {
    const int64_t slot = k * world_ + rank_;
    if (slot < size_) out.push_back(perm[slot]);
    else if (shuffle_) out.push_back(perm[slot % size_]);  // the padding: the permutation's first items again
  }
  return out;
}

std::vector<int64_t> DistributedSampler::next() {
  if (batches_per_epoch_ == 0)
    throw DataError(cat("dataset of ", size_, " items gives no batch of ", batch_size_, " on each of ",
                        world_, " ranks"));
  auto out = batch_indices(epoch_, position_);
  if (++position_ == batches_per_epoch_) {
    ++epoch_;
    position_ = 0;
  }
  return out;
}

void DistributedSampler::set_state(int64_t epoch, int64_t position) {
  if (epoch < 0 || position < 0 || (batches_per_epoch_ > 0 && position >= batches_per_epoch_))
    throw CheckpointError(cat("sampler state (epoch ", epoch, ", position ", position,
                              ") does not fit an epoch of ", batches_per_epoch_, " batches"));
  epoch_ = epoch;
  position_ = position;
}

}  // namespace vlmt

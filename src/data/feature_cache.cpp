#include "data/feature_cache.h"

#include "core/log.h"

namespace vlmt {

std::optional<ImageRegions> FeatureCache::find(uint64_t store, int64_t index, bool with_cls_prob) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = where_.find({store, index});
  if (it == where_.end()) return std::nullopt;
  if (with_cls_prob && !it->second->second.cls_prob.defined()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void FeatureCache::put(uint64_t store, int64_t index, const ImageRegions& regions) {
  std::lock_guard<std::mutex> lock(mutex_);
  const Key key{store, index};
  if (auto it = where_.find(key); it != where_.end()) erase(it->second);
  const int64_t bytes = regions.bytes();
  if (bytes > capacity_) return;
  lru_.emplace_front(key, regions);
  where_[key] = lru_.begin();
  bytes_ += bytes;
  evict_to(capacity_);
}

void FeatureCache::forget(uint64_t store) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->first.store == store) erase(it);
    it = next;
  }
}

void FeatureCache::set_capacity(int64_t capacity_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  capacity_ = capacity_bytes;
  evict_to(capacity_);
}

void FeatureCache::erase(std::list<Entry>::iterator it) {
  bytes_ -= it->second.bytes();
  where_.erase(it->first);
  lru_.erase(it);
}

void FeatureCache::evict_to(int64_t capacity) {
  while (bytes_ > capacity && !lru_.empty()) erase(std::prev(lru_.end()));
}

int64_t FeatureCache::capacity_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return capacity_;
}

int64_t FeatureCache::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

int64_t FeatureCache::entries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(lru_.size());
}

std::shared_ptr<FeatureCache> process_feature_cache(int64_t capacity_mb) {
  static const auto cache = std::make_shared<FeatureCache>(0);
  const int64_t bytes = capacity_mb << 20;
  if (cache->capacity_bytes() != bytes) {
    cache->set_capacity(bytes);
    log::info(cat("feature cache: ", capacity_mb, " MiB for all region-feature files of this rank"));
  }
  return cache;
}

}  // namespace vlmt

#pragma once
// Decoded images of the feature files a rank reads, least recently used first out, bounded in
// bytes for all files together (data.feature_cache_mb): what a rank holds in memory does not grow
// with the number of files it opens. Thread-safe.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "data/image_regions.h"

namespace vlmt {

class FeatureCache {
 public:
  explicit FeatureCache(int64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Image `index` of store `store` (FeatureStore::serial()); nullopt when absent, or present
  // without the class scores that `with_cls_prob` asks for.
  std::optional<ImageRegions> find(uint64_t store, int64_t index, bool with_cls_prob);
  // Inserts or replaces, then evicts least recently used images until within capacity (an image
  // larger than the capacity is not kept).
  void put(uint64_t store, int64_t index, const ImageRegions& regions);
  // Drops every image of a store (it is closing).
  void forget(uint64_t store);
  void set_capacity(int64_t capacity_bytes);

  int64_t capacity_bytes() const;
  int64_t bytes() const;
  int64_t entries() const;

 private:
  struct Key {
    uint64_t store;
    int64_t index;
    bool operator==(const Key& o) const { return store == o.store && index == o.index; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.store * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(k.index)); }
  };
  using Entry = std::pair<Key, ImageRegions>;
  void erase(std::list<Entry>::iterator it);
  void evict_to(int64_t capacity);

  mutable std::mutex mutex_;
  int64_t capacity_, bytes_ = 0;
  std::list<Entry> lru_;  // most recent at the front
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> where_;
};

// The rank's one cache, its capacity set to `capacity_mb` MiB by each call (a process runs one
// configuration; the stores of all its tasks share the budget).
std::shared_ptr<FeatureCache> process_feature_cache(int64_t capacity_mb);

}  // namespace vlmt

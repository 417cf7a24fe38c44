#include "core/allocator.h"

#include <malloc.h>

#include <c10/core/CPUAllocator.h>

#include <cstdlib>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/env.h"

namespace vlmt {

namespace {

constexpr size_t kMiB = 1024 * 1024;
constexpr int kLargestMmapThreshold = 32 * kMiB;  // glibc's cap on 64-bit: HEAP_MAX_SIZE / 2

constexpr size_t kDefaultCacheMiB = 2048;

}  // namespace

// VLMT_CPU_BLOCK_CACHE_MB: a whole number of MiB (0 = no cache).
size_t large_block_cache_limit_bytes() {
  return static_cast<size_t>(env::integer("VLMT_CPU_BLOCK_CACHE_MB", kDefaultCacheMiB, 0, 999999999)) * kMiB;
}

namespace {

// Wraps LibTorch's CPU allocator. Blocks of at least kLargestMmapThreshold bytes come back to the
// cache when their tensor dies; one of exactly the requested size is handed out again. Smaller
// blocks go straight to the wrapped allocator (glibc's heap keeps those, see above). As LibTorch's
// raw_allocate requires, a block's context is its data pointer, so the deleter finds the block by
// its address.
class LargeBlockCache final : public c10::Allocator {
 public:
  LargeBlockCache(c10::Allocator* wrapped, size_t limit) : wrapped_(wrapped), limit_(limit) {}

  c10::DataPtr allocate(size_t n) const override {
    if (n < static_cast<size_t>(kLargestMmapThreshold)) return wrapped_->allocate(n);
    void* data = take(n);
    if (data == nullptr) {
      c10::DataPtr memory = wrapped_->allocate(n);
      data = memory.get();
      std::lock_guard<std::mutex> lock(mutex_);
      blocks_.emplace(data, Block{std::move(memory), n});
    }
    return {data, data, &LargeBlockCache::release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &LargeBlockCache::release; }

  LargeBlockCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  struct Block {
    c10::DataPtr memory;  // owned; the wrapped allocator frees it when the block is erased
    size_t size;
  };

  // A free block of exactly n bytes, now in use; nullptr when there is none.
  void* take(size_t n) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (blocks_.at(*it).size != n) continue;
      void* data = *it;
      free_.erase(it);
      stats_.cached_bytes -= n;
      ++stats_.reused;
      return data;
    }
    ++stats_.allocated;
    return nullptr;
  }

  static void release(void* data);

  // Returns a block to the free list, or, for memory that is not a block (a small raw
  // allocation), hands it to the wrapped allocator's deleter.
  void put(void* data) const {
    std::vector<c10::DataPtr> evicted;
    bool is_block = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = blocks_.find(data);
      is_block = it != blocks_.end();
      if (is_block) {
        free_.push_back(data);
        stats_.cached_bytes += it->second.size;
        while (stats_.cached_bytes > limit_ && !free_.empty()) {  // oldest first
          auto oldest = blocks_.find(free_.front());
          stats_.cached_bytes -= oldest->second.size;
          evicted.push_back(std::move(oldest->second.memory));
          blocks_.erase(oldest);
          free_.pop_front();
        }
      }
    }
    // Memory is freed outside the lock (unmapping may take a while): a small raw allocation here,
    // evicted blocks when `evicted` goes out of scope.
    if (!is_block) wrapped_->raw_deleter()(data);
  }

  c10::Allocator* wrapped_;
  size_t limit_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, Block> blocks_;  // every large block, in use or free
  mutable std::list<void*> free_;                     // free blocks, oldest first
  mutable LargeBlockCacheStats stats_;
};

// Never destroyed: tensors freed during static destruction still find it.
LargeBlockCache* g_cache = nullptr;

}  // namespace

void LargeBlockCache::release(void* data) { g_cache->put(data); }

bool keep_freed_memory() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    const size_t limit = large_block_cache_limit_bytes();
    if (limit == 0) return;
    g_cache = new LargeBlockCache(c10::GetCPUAllocator(), limit);
    c10::SetCPUAllocator(g_cache, /*priority=*/1);
  });
  if (env::text("GLIBC_TUNABLES")) return false;
  mallopt(M_MMAP_THRESHOLD, kLargestMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, -1);  // never trim (the value is read as the largest size_t)
  return true;
}

LargeBlockCacheStats large_block_cache_stats() { return g_cache != nullptr ? g_cache->stats() : LargeBlockCacheStats{}; }

}  // namespace vlmt

#include <gtest/gtest.h>

#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "core/allocator.h"

using namespace vlmt;

namespace {
constexpr int64_t kLargeFloats = 40 * 1024 * 1024 / 4;  // 40 MiB: above glibc's 32 MiB mmap cap

bool cache_off() {
  const char* mb = std::getenv("VLMT_CPU_BLOCK_CACHE_MB");
  return mb != nullptr && std::string(mb) == "0";
}
}  // namespace

TEST(CoreAllocator, AFreedLargeBlockServesTheNextRequestOfItsSize) {
  if (cache_off()) GTEST_SKIP() << "VLMT_CPU_BLOCK_CACHE_MB=0";
  keep_freed_memory();
  const LargeBlockCacheStats before = large_block_cache_stats();
  const void* first = nullptr;
  {
    auto t = torch::zeros({kLargeFloats});
    first = t.data_ptr();
  }
  EXPECT_GE(large_block_cache_stats().cached_bytes, static_cast<size_t>(kLargeFloats * 4));
  auto again = torch::ones({kLargeFloats});
  EXPECT_EQ(again.data_ptr(), first);  // the same memory, already mapped: no page faults
  EXPECT_EQ(again.sum().item<double>(), static_cast<double>(kLargeFloats));
  const LargeBlockCacheStats after = large_block_cache_stats();
  EXPECT_EQ(after.reused, before.reused + 1);
  EXPECT_EQ(after.allocated, before.allocated + 1);
  // A block of another size is not handed out for it.
  auto other = torch::empty({kLargeFloats + 1024});
  EXPECT_NE(other.data_ptr(), first);
  EXPECT_EQ(large_block_cache_stats().allocated, before.allocated + 2);
}

TEST(CoreAllocator, SmallBlocksAndRawAllocationsPassThrough) {
  keep_freed_memory();
  const LargeBlockCacheStats before = large_block_cache_stats();
  { auto small = torch::ones({1024}); }
  EXPECT_EQ(large_block_cache_stats().allocated, before.allocated);
  // LibTorch's kernels take scratch memory with raw_allocate/raw_deallocate (the data pointer
  // is the deleter's context), small and large.
  c10::Allocator* cpu = c10::GetCPUAllocator();
  for (size_t bytes : {size_t{4096}, size_t{48} * 1024 * 1024}) {
    void* p = cpu->raw_allocate(bytes);
    ASSERT_NE(p, nullptr);
    static_cast<char*>(p)[bytes - 1] = 1;
    cpu->raw_deallocate(p);
  }
  if (cache_off()) return;  // no cache, no counters; the raw allocations above still held
  EXPECT_EQ(large_block_cache_stats().allocated + large_block_cache_stats().reused,
            before.allocated + before.reused + 1);
}

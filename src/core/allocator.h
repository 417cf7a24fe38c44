#pragma once
// Keeps freed memory in the process for reuse instead of handing it back to the kernel.
//
// LibTorch's CPU allocator is glibc malloc. A training step frees and allocates the same few
// hundred MB of activations every step; by default glibc serves blocks above its mmap threshold
// with fresh mmaps and trims the heap's top back to the kernel, so every step pays page faults
// (the kernel zeroing pages) again. Measured with bench_step on this repository's 2-core
// development machine (tiny preset, VQA, batch 64, 1 thread): 0.75–1.0 s per step by default,
// 0.27–0.41 s with memory kept (docs/PERFORMANCE.md). Two parts:
//  * glibc: blocks up to its largest allowed mmap threshold (32 MiB) come from the heap, and the
//    heap is never trimmed. A GLIBC_TUNABLES setting in the environment wins: then glibc's
//    settings are left alone.
//  * Larger blocks (the base preset's word-embedding gradient, 94 MB, freshly mmapped and
//    faulted in every step; activations at large per-rank batches) go through LibTorch's CPU
//    allocator wrapped by a cache: a freed block waits for the next request of exactly its size
//    instead of being unmapped. The cache holds at most VLMT_CPU_BLOCK_CACHE_MB (default 2048;
//    0 turns it off), oldest blocks leaving first.
//
// Called once at start by run_main and run_tool (every executable).
#include <cstddef>

namespace vlmt {

// Returns false when the environment's GLIBC_TUNABLES was left in charge of glibc.
bool keep_freed_memory();

// The large-block cache's counters (tests, benchmarks).
struct LargeBlockCacheStats {
  size_t cached_bytes = 0;  // held for reuse now
  long long reused = 0;     // requests served from the cache
  long long allocated = 0;  // requests that allocated a new large block
};
LargeBlockCacheStats large_block_cache_stats();
// The most the large-block cache may hold (VLMT_CPU_BLOCK_CACHE_MB; 0 = off).
size_t large_block_cache_limit_bytes();

}  // namespace vlmt

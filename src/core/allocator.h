#pragma once
// Keeps freed memory in the process for reuse instead of handing it back to the kernel.
//
// LibTorch's CPU allocator is glibc malloc. A training step frees and allocates the same few
// hundred MB of activations every step; by default glibc serves blocks above its mmap threshold
// with fresh mmaps and trims the heap's top back to the kernel, so every step pays page faults
// (the kernel zeroing pages) again. Measured with bench_step on this repository's 2-core
// development machine (tiny preset, VQA, batch 64, 1 thread): 0.75–1.0 s per step by default,
// 0.27–0.41 s with memory kept (docs/PERFORMANCE.md). The settings: blocks up to glibc's largest
// allowed mmap threshold (32 MiB) come from the heap, and the heap is never trimmed. Larger
// blocks (the base preset's biggest activations) are still mmapped.
//
// Called once at start by run_main and run_tool (every executable). A GLIBC_TUNABLES setting
// in the environment wins: then nothing is changed.
namespace vlmt {

// Returns false when the environment's GLIBC_TUNABLES was left in charge.
bool keep_freed_memory();

}  // namespace vlmt

#include "core/allocator.h"

#include <malloc.h>

#include <cstdlib>

namespace vlmt {

bool keep_freed_memory() {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return false;
  constexpr int kLargestMmapThreshold = 32 * 1024 * 1024;  // glibc's cap on 64-bit: HEAP_MAX_SIZE / 2
  mallopt(M_MMAP_THRESHOLD, kLargestMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, -1);  // never trim (the value is read as the largest size_t)
  return true;
}

}  // namespace vlmt

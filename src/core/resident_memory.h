#pragma once
// This process's resident memory, from /proc/self/status (0 where it cannot be read).
#include <cstdint>

namespace vlmt {

struct ResidentMemory {
  int64_t now_bytes = 0;   // VmRSS
  int64_t peak_bytes = 0;  // VmHWM
};
ResidentMemory resident_memory();

}  // namespace vlmt

#pragma once
// This process's resident memory, from /proc/self/status (0 where it cannot be read).
#include <cstdint>

namespace vlmt {

struct ResidentMemory {
  int64_t now_bytes = 0;   // VmRSS
  int64_t peak_bytes = 0;  // VmHWM
};
ResidentMemory resident_memory();
// Resets the peak (VmHWM) to the current resident memory, so that the next resident_memory()
// reports the peak since now (Linux: /proc/self/clear_refs). False where it cannot.
bool reset_peak_resident_memory();

}  // namespace vlmt

#include "core/resident_memory.h"

#include <fstream>
#include <sstream>
#include <string>

namespace vlmt {

ResidentMemory resident_memory() {
  ResidentMemory out;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream in(line);
    std::string key;
    int64_t kib = 0;
    in >> key >> kib;
    if (key == "VmRSS:") out.now_bytes = kib * 1024;
    if (key == "VmHWM:") out.peak_bytes = kib * 1024;
  }
  return out;
}

bool reset_peak_resident_memory() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

}  // namespace vlmt

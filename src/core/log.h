#pragma once
// Rank-aware logging. Every line carries a timestamp and `[rank r/n]`; `info0` prints only on
// rank 0, for summaries that would otherwise repeat n times.
#include <sstream>
#include <string>

namespace vlmt::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_rank(int rank, int world_size);
void set_level(Level level);
int rank();

void write(Level level, const std::string& message);
inline void debug(const std::string& m) { write(Level::kDebug, m); }
inline void info(const std::string& m) { write(Level::kInfo, m); }
inline void warn(const std::string& m) { write(Level::kWarn, m); }
inline void error(const std::string& m) { write(Level::kError, m); }
inline void info0(const std::string& m) {
  if (rank() == 0) write(Level::kInfo, m);
}
inline void warn0(const std::string& m) {
  if (rank() == 0) write(Level::kWarn, m);
}

}  // namespace vlmt::log

namespace vlmt {
// Concatenates anything streamable: cat("step ", 3, " loss ", 0.5).
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace vlmt

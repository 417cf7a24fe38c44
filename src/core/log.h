#pragma once
// Rank-aware logging. Every line carries a timestamp and `[rank r/n]`; `info0` prints only on
// rank 0, for summaries that would otherwise repeat n times.
#include <sstream>
#include <string>
#include <vector>

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

// "a, b, c": the names a message lists (a registry's valid names, the tasks of a run). `name`
// maps an element to its name: join_names(entries, [](const Entry& e) { return e.name; }).
template <class Range, class Name>
std::string join_names(const Range& items, Name name) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += name(item);
  }
  return out;
}
inline std::string join_names(const std::vector<std::string>& names) {
  return join_names(names, [](const std::string& n) -> const std::string& { return n; });
}

// The wording of every check of a name against the names it may take:
// "\"turbo\" is not one of: fused, ops". `name` as for join_names.
template <class Range, class Name>
std::string not_one_of(const std::string& value, const Range& items, Name name) {
  return cat("\"", value, "\" is not one of: ", join_names(items, name));
}
inline std::string not_one_of(const std::string& value, const std::vector<std::string>& names) {
  return not_one_of(value, names, [](const std::string& n) -> const std::string& { return n; });
}
}  // namespace vlmt

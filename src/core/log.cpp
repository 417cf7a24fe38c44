#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace vlmt::log {
namespace {
int g_rank = 0;
int g_world = 1;
Level g_level = Level::kInfo;
std::mutex g_mutex;

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "D";
    case Level::kInfo: return "I";
    case Level::kWarn: return "W";
    case Level::kError: return "E";
  }
  return "?";
}
}  // namespace

void set_rank(int r, int world_size) {
  g_rank = r;
  g_world = world_size;
}
void set_level(Level level) { g_level = level; }
int rank() { return g_rank; }

void write(Level level, const std::string& message) {
  if (level < g_level) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(g_mutex);
  // Errors go to stderr so that Slurm's separate .err files catch them.
  std::FILE* out = level >= Level::kWarn ? stderr : stdout;
  std::fprintf(out, "%s %s [rank %d/%d] %s\n", stamp, level_name(level), g_rank, g_world,
               message.c_str());
  std::fflush(out);
}

}  // namespace vlmt::log

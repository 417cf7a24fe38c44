#include "train/plan_options.h"

#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

std::map<std::string, int64_t> parse_item_counts(const std::string& text, const TaskCatalog& catalog) {
  std::map<std::string, int64_t> out;
  std::stringstream entries(text);
  std::string entry;
  while (std::getline(entries, entry, ',')) {
    const auto eq = entry.find('=');
    const std::string key = entry.substr(0, eq);
    if (eq == std::string::npos || key.empty())
      throw ConfigError(cat("--items: '", entry, "' is not TASK=N"));
    catalog.by_key(key);  // ConfigError naming an unknown task
    const std::string number = entry.substr(eq + 1);
    size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(number, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != number.size() || n <= 0)
      throw ConfigError(cat("--items: ", key, "=", number, ": the item count must be a positive integer"));
    out[key] = n;
  }
  return out;
}

}  // namespace vlmt

#include "core/env.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"

namespace vlmt::env {
namespace {

[[noreturn]] void reject(const std::string& name, const std::string& value, const std::string& expected) {
  throw ConfigError(cat("environment variable ", name, "=\"", value, "\": ", expected, " (unset it for the default)"));
}

}  // namespace

std::optional<std::string> text(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int64_t parse_integer(const std::string& name, const std::string& value, int64_t min, int64_t max) {
  const std::string expected = cat("must be a whole number in [", min, ", ", max, "]");
  // Digits only (an optional leading '-'): strtoll alone would take " 12", "+12" or "12abc".
  const size_t digits_from = !value.empty() && value[0] == '-' ? 1 : 0;
  if (value.size() == digits_from || value.size() - digits_from > 18 ||
      value.find_first_not_of("0123456789", digits_from) != std::string::npos)
    reject(name, value, expected);
  const int64_t parsed = std::strtoll(value.c_str(), nullptr, 10);
  if (parsed < min || parsed > max) reject(name, value, expected);
  return parsed;
}

double parse_seconds(const std::string& name, const std::string& value, double min, double max) {
  const std::string expected = cat("must be a number of seconds in [", min, ", ", max, "], without a unit");
  // Decimal notation only: strtod would also take "inf", "nan", hex and leading blanks.
  if (value.empty() || value.find_first_not_of("0123456789.eE+-") != std::string::npos) reject(name, value, expected);
  char* end = nullptr;
  errno = 0;
  const double parsed = std::strtod(value.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || !std::isfinite(parsed) || parsed < min || parsed > max)
    reject(name, value, expected);
  return parsed;
}

std::string parse_choice(const std::string& name, const std::string& value, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed)
    if (value == a) return value;
  reject(name, value, cat("must be one of ", join_names(allowed)));
}

int64_t integer(const std::string& name, int64_t def, int64_t min, int64_t max) {
  const auto value = text(name);
  return value ? parse_integer(name, *value, min, max) : def;
}

double seconds(const std::string& name, double def, double min, double max) {
  const auto value = text(name);
  return value ? parse_seconds(name, *value, min, max) : def;
}

std::string choice(const std::string& name, const std::string& def, const std::vector<std::string>& allowed) {
  const auto value = text(name);
  return value ? parse_choice(name, *value, allowed) : def;
}

}  // namespace vlmt::env

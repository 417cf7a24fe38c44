#pragma once
// Environment variables, read strictly. Every variable an executable reads (VLMT_* and the
// launchers' and glibc's) goes through these getters: unset or empty gives the default, and a
// value that does not parse or is out of range is a ConfigError (exit 2 on every rank) naming the
// variable, the value and what it must be. Nothing is half-parsed ("10m" is not 10 seconds) and
// nothing unknown is ignored.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vlmt::env {

// The value, or nullopt when unset or empty.
std::optional<std::string> text(const std::string& name);

// A decimal integer in [min, max].
int64_t integer(const std::string& name, int64_t def, int64_t min, int64_t max);
// A decimal number of seconds in [min, max] (no unit: the variable's name says seconds).
double seconds(const std::string& name, double def, double min, double max);
// One of `allowed`.
std::string choice(const std::string& name, const std::string& def, const std::vector<std::string>& allowed);

// The same rules for a value already looked up (e.g. through distributed/local_rank.h's EnvLookup).
int64_t parse_integer(const std::string& name, const std::string& value, int64_t min, int64_t max);
double parse_seconds(const std::string& name, const std::string& value, double min, double max);
std::string parse_choice(const std::string& name, const std::string& value, const std::vector<std::string>& allowed);

}  // namespace vlmt::env

#pragma once
// Command-line parsing shared by every executable, on CLI11: positional arguments, repeated
// `--set section.key=value`, and typed `--name value` / `--flag` options declared up front. A
// misspelt option, a missing value, a value of the wrong type or out of range is a ConfigError
// naming the option (exit 2) before anything runs; `--help` and `--version` print and end the
// program with exit 0 (CliExit, on rank 0 only under MPI).
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace vlmt {

enum class CliValue { kFlag, kText, kInteger, kNumber, kOverrides, kPositional };

struct CliOption {
  std::string name;  // without the leading dashes
  CliValue value = CliValue::kText;
  std::string help;
  double min = -std::numeric_limits<double>::infinity();  // kInteger / kNumber: inclusive range
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // kText: the allowed values (empty = any)
  int count_min = 0, count_max = 0;   // kPositional: how many (count_max < 0: any number)
};

CliOption cli_flag(std::string name, std::string help);
CliOption cli_text(std::string name, std::string help, std::vector<std::string> choices = {});
CliOption cli_integer(std::string name, std::string help, double min, double max);
CliOption cli_number(std::string name, std::string help, double min, double max);
// `--set section.key=value`, repeatable (CliArgs::overrides); only executables that read a run
// configuration declare it.
CliOption cli_set();
// Positional arguments (CliArgs::positional): between min and max of them (max < 0: any number).
// Without one, a positional argument is an error.
CliOption cli_positional(std::string name, std::string help, int min, int max);

struct CliArgs {
  std::vector<std::string> positional;
  std::vector<std::string> overrides;         // --set values, in order (cli_set)
  std::map<std::string, std::string> values;  // --name value (already checked against its type)
  std::map<std::string, bool> flags;          // --flag
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& def = "") const;
  int64_t integer(const std::string& name, int64_t def) const;
  double number(const std::string& name, double def) const;
};

// Thrown by parse_cli after --help or --version has been printed: the program ends with exit 0.
struct CliExit : Error {
  CliExit() : Error(ExitCode::kOk, "") {}
};

// `usage` describes the positional arguments and required options for the help's first line.
CliArgs parse_cli(int argc, char** argv, const std::string& program, const std::string& usage,
                  const std::vector<CliOption>& options);

// main() of an executable without MPI: runs body and maps vlmt::Error to its exit code and any
// other exception to exit 1, with the message on stderr (CliExit: exit 0, nothing printed).
int run_tool(const std::function<int()>& body);

}  // namespace vlmt

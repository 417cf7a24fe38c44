#pragma once
// Command-line parsing shared by every executable: one optional positional config path,
// repeated `--set section.key=value`, and `--name value` / `--flag` options declared up front so
// that a misspelt option is an error (exit 2) rather than silently ignored.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vlmt {

struct CliOption {
  std::string name;      // without the leading dashes
  bool takes_value;
  std::string help;
};

struct CliArgs {
  std::vector<std::string> positional;
  std::vector<std::string> overrides;              // --set values, in order
  std::map<std::string, std::string> values;       // --name value
  std::map<std::string, bool> flags;               // --flag
  bool has(const std::string& name) const;
  std::string get(const std::string& name, const std::string& def = "") const;
};

// Throws ConfigError on unknown options or missing values. `--help` prints usage and exits 0.
CliArgs parse_cli(int argc, char** argv, const std::string& program, const std::string& usage,
                  const std::vector<CliOption>& options);

}  // namespace vlmt

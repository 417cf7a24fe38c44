#pragma once
// Typed, validating access to one TOML table.
//
// Every read records (a) that the key was used, so that unknown keys — typos — can be reported,
// and (b) the value actually used, defaults included, into a "resolved" table that is printed on
// rank 0 and stored in checkpoints. Problems are collected, not thrown one at a time, so a user
// sees every mistake in a file at once, each with file, key and the offending value.
#include <toml++/toml.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vlmt {

class ConfigIssues {
 public:
  // `file` is the file being read; a key that `origins` (dotted key -> file) traces to another
  // file (a base named by `extends`, or "command line"), is reported against that one.
  explicit ConfigIssues(std::map<std::string, std::string> origins = {}) : origins_(std::move(origins)) {}
  void add(const std::string& file, const std::string& key, const std::string& problem);
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }
  // Throws ConfigError listing every problem, if there is any.
  void throw_if_any() const;

 private:
  std::map<std::string, std::string> origins_;
  std::vector<std::string> messages_;
};

class TomlSection {
 public:
  // `table` may be null (section absent): every read then yields its default.
  TomlSection(const toml::table* table, std::string path, std::string file, ConfigIssues* issues,
              toml::table* resolved);

  bool has(const std::string& key) const;
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

  bool get(const std::string& key, bool def);
  int64_t get(const std::string& key, int64_t def);
  int get(const std::string& key, int def) { return static_cast<int>(get(key, int64_t{def})); }
  double get(const std::string& key, double def);
  std::string get(const std::string& key, const std::string& def);
  std::string get(const std::string& key, const char* def) { return get(key, std::string(def)); }
  std::vector<int64_t> get(const std::string& key, const std::vector<int64_t>& def);
  std::vector<std::string> get(const std::string& key, const std::vector<std::string>& def);

  // Reads a string that must be one of `allowed`.
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& allowed);
  // Range checks report through the same issue list.
  void require_range(const std::string& key, double value, double lo, double hi);
  void require(bool ok, const std::string& key, const std::string& problem);

  // A key vlmt no longer reads but older files (configs stored in checkpoints) may carry: when
  // present it is accepted, left out of the resolved table and `why` is logged on rank 0.
  void retired(const std::string& key, const std::string& why);
  // A sub-table; a missing one reads defaults.
  TomlSection child(const std::string& key);
  // An array of tables (`[[key]]` entries): one section per entry, named key[0], key[1], ...; a
  // missing key yields none, anything else than tables is reported. Their values are not
  // recorded in the resolved table.
  std::vector<TomlSection> array_of_tables(const std::string& key);
  // Names of the keys present in this table (for maps such as [tasks.<name>]).
  std::vector<std::string> keys() const;
  // Reports every key present but never read as "unknown key".
  void finish();

 private:
  const toml::node* lookup(const std::string& key);
  void record(const std::string& key, toml::node&& value);
  std::string where(const std::string& key) const;
  void wrong_type(const std::string& key, const char* expected, const toml::node& got);

  const toml::table* table_;
  std::string path_;
  std::string file_;
  ConfigIssues* issues_;
  toml::table* resolved_;
  std::set<std::string> used_;
};

// Parses a TOML file, turning syntax errors into ConfigError naming file, line and column.
toml::table parse_toml_file(const std::string& file);

// Applies `section.key=value` overrides (value parsed as TOML, falling back to a bare string).
void apply_override(toml::table& root, const std::string& assignment, const std::string& origin);

// Deep-merges `overlay` onto `base` (tables merge, everything else replaces).
void merge_tables(toml::table& base, const toml::table& overlay);

// TOML text of `table`; floats in their shortest round-trip form (0.1, 2e-05).
std::string format_toml(const toml::table& table);

}  // namespace vlmt

// docs/ARCHITECTURE.md's layer table is the rule for what may include what; this test reads the
// table and checks every #include under src/ against it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include "test_paths.h"

namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" `\t"), e = s.find_last_not_of(" `\t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// folder → folders it may include, from the rows after the "<!-- layers" marker.
std::map<std::string, std::set<std::string>> read_layers(const fs::path& doc) {
  std::ifstream in(doc);
  std::map<std::string, std::set<std::string>> layers;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("<!-- layers", 0) == 0) inside = true;
    else if (inside && line.empty()) break;
    else if (inside && line.rfind("| `", 0) == 0) {
      std::vector<std::string> cells;
      std::stringstream row(line.substr(1));
      for (std::string cell; std::getline(row, cell, '|');) cells.push_back(trim(cell));
      std::set<std::string> allowed;
      std::stringstream deps(cells.at(2));
      for (std::string dep; std::getline(deps, dep, ',');)
        if (trim(dep) != "—") allowed.insert(trim(dep));
      layers[cells.at(0)] = allowed;
    }
  }
  return layers;
}

}  // namespace

TEST(Architecture, IncludesFollowTheLayers) {
  const fs::path root(VLMT_SOURCE_DIR);
  const auto layers = read_layers(root / "docs" / "ARCHITECTURE.md");
  ASSERT_GE(layers.size(), 10u) << "no layer table in docs/ARCHITECTURE.md";
  const std::regex include("^#include \"([a-z_0-9]+)/([^\"]+)\"");
  std::string violations;
  for (const auto& entry : fs::directory_iterator(root / "src")) {
    if (!entry.is_directory()) continue;
    const std::string folder = entry.path().filename().string();
    const auto row = layers.find(folder);
    if (row == layers.end()) {
      violations += "src/" + folder + " has no row in docs/ARCHITECTURE.md\n";
      continue;
    }
    for (const auto& file : fs::directory_iterator(entry.path())) {
      std::ifstream in(file.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const std::string target = m[1];
        if (target == folder || (target == "tasks" && m[2] == "task_table.h") || !layers.count(target)) continue;
        if (!row->second.count(target))
          violations += "src/" + folder + "/" + file.path().filename().string() + ":" + std::to_string(n) +
                        " includes " + target + "/" + std::string(m[2]) + "\n";
      }
    }
  }
  EXPECT_TRUE(violations.empty()) << "includes that docs/ARCHITECTURE.md's layers do not allow:\n" << violations;
}

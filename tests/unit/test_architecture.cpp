// docs/ARCHITECTURE.md's layer table is the rule for what may include what; this test reads the
// table and checks every #include under src/ against it. Inside train/, units (x.h with x.cpp)
// include each other one way only.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

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

// unit (file stem) → the units of `folder` its .h and .cpp include.
std::map<std::string, std::set<std::string>> unit_includes(const fs::path& dir, const std::string& folder) {
  const std::regex include("^#include \"" + folder + "/([a-z_0-9]+)\\.h\"");
  std::map<std::string, std::set<std::string>> out;
  for (const auto& file : fs::directory_iterator(dir)) {
    const std::string unit = file.path().stem().string();
    auto& deps = out[unit];
    std::ifstream in(file.path());
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, include) && m[1].str() != unit) deps.insert(m[1].str());
    }
  }
  return out;
}

// A cycle as "a -> b -> a", or "" when there is none (depth-first search).
std::string find_cycle(const std::map<std::string, std::set<std::string>>& graph) {
  std::map<std::string, int> state;  // 1: on the current path, 2: done
  std::vector<std::string> path;
  std::string found;
  std::function<void(const std::string&)> visit = [&](const std::string& u) {
    state[u] = 1;
    path.push_back(u);
    const auto deps = graph.find(u);
    if (deps != graph.end())
      for (const auto& v : deps->second) {
        if (!found.empty()) break;
        if (state[v] == 1) {
          for (auto it = std::find(path.begin(), path.end(), v); it != path.end(); ++it) found += *it + " -> ";
          found += v;
        } else if (state[v] == 0) {
          visit(v);
        }
      }
    path.pop_back();
    state[u] = 2;
  };
  for (const auto& [unit, deps] : graph)
    if (found.empty() && state[unit] == 0) visit(unit);
  return found;
}

}  // namespace

// The row a file answers to: src/<folder>/... (any depth) is <folder>'s; a C++ file under tools/
// is its directory's ("tools/dev").
std::string row_of(const fs::path& root, const fs::path& file) {
  const fs::path rel = fs::relative(file, root);
  if (*rel.begin() == "src") return std::next(rel.begin())->string();
  return rel.parent_path().generic_string();
}

std::vector<fs::path> cpp_files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".cpp" || ext == ".h")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Architecture, IncludesFollowTheLayers) {
  const fs::path root(VLMT_SOURCE_DIR);
  const auto layers = read_layers(root / "docs" / "ARCHITECTURE.md");
  ASSERT_GE(layers.size(), 10u) << "no layer table in docs/ARCHITECTURE.md";
  const std::regex include("^#include \"([a-z_0-9]+)/([^\"]+)\"");
  std::vector<fs::path> files = cpp_files_under(root / "src");
  const std::vector<fs::path> tools = cpp_files_under(root / "tools");
  ASSERT_FALSE(tools.empty()) << "no C++ under tools/";
  files.insert(files.end(), tools.begin(), tools.end());
  std::string violations;
  for (const auto& file : files) {
    const std::string rel = fs::relative(file, root).generic_string();
    const std::string folder = row_of(root, file);
    const auto row = layers.find(folder);
    if (row == layers.end()) {
      violations += rel + ": " + folder + " has no row in docs/ARCHITECTURE.md\n";
      continue;
    }
    std::ifstream in(file);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      std::smatch m;
      if (!std::regex_search(line, m, include)) continue;
      const std::string target = m[1];
      if (target == folder || !layers.count(target)) continue;
      if (!row->second.count(target))
        violations += rel + ":" + std::to_string(n) + " includes " + target + "/" + std::string(m[2]) + "\n";
    }
  }
  EXPECT_TRUE(violations.empty()) << "includes that docs/ARCHITECTURE.md's layers do not allow:\n" << violations;
}

TEST(Architecture, TrainUnitsIncludeEachOtherOneWay) {
  const auto graph = unit_includes(fs::path(VLMT_SOURCE_DIR) / "src" / "train", "train");
  ASSERT_GE(graph.size(), 10u);
  EXPECT_EQ(find_cycle(graph), "") << "an include cycle between units of src/train";
}

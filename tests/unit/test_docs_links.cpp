// Every repository path that the docs and the comments cite must exist, so that a reader who
// follows one finds the file. Scanned: README.md, the root CMakeLists.txt and all of docs/ (whole
// text), and the comments of the files under src/, tests/, tools/, configs/, slurm/, jobs/ and
// cmake/ (C++ `//` and `/* */`; `#` in shell, Python, TOML and CMake, plus Python docstrings;
// Markdown files there are read whole). Cited are:
//   - tokens starting with a top-level folder of the repository (docs/, src/, tests/, tools/,
//     configs/, slurm/, jobs/, cmake/), from the repository root;
//   - tokens ending in .h or .cpp whose first folder is a folder of src/ (the code's include
//     style, e.g. train/dsg.h), from src/;
//   - Markdown link targets `[text](target)` that are not URLs, from the citing file's folder.
// Not paths of this repository, by how they are written:
//   - a token inside another path (`$VLMT_HOME/slurm/...`, `vilbert-multi-task/tools/refer`):
//     installed trees, run directories and other repositories are named by their root first;
//   - placeholders and patterns: a token with `<`, `>`, `*`, `{`, `}`, `$` or `...`.
// A path without an extension may name what is built from a file of that stem (the command
// built from a src/apps/ or tools/dev/ .cpp, a module with its .h and .cpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include "test_paths.h"

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTopFolders = {"docs",    "src",   "tests", "tools",
                                              "configs", "slurm", "jobs",  "cmake"};

bool is_cpp(const fs::path& p) {
  static const std::set<std::string> ext = {".h", ".hpp", ".cpp", ".cc", ".cu"};
  return ext.count(p.extension().string()) > 0;
}

bool has_hash_comments(const fs::path& p) {
  static const std::set<std::string> ext = {".sh", ".py", ".toml", ".cmake"};
  return ext.count(p.extension().string()) > 0 || p.filename() == "CMakeLists.txt";
}

// The comment text of one C++ line (string and character literals skipped); `in_block` carries
// a /* */ comment over lines.
std::string cpp_comment(const std::string& line, bool& in_block) {
  std::string text;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (in_block) {
      if (line.compare(i, 2, "*/") == 0) {
        in_block = false;
        text += ' ';
        ++i;
      } else {
        text += line[i];
      }
    } else if (quote) {
      if (line[i] == '\\') ++i;
      else if (line[i] == quote) quote = 0;
    } else if (line[i] == '"' || line[i] == '\'') {
      quote = line[i];
    } else if (line.compare(i, 2, "//") == 0) {
      return text + " " + line.substr(i + 2);
    } else if (line.compare(i, 2, "/*") == 0) {
      in_block = true;
      ++i;
    }
  }
  return text;
}

// The text of each line that cites (the comment part; the whole line for Markdown).
std::vector<std::string> cited_text(const fs::path& file, bool whole) {
  std::ifstream in(file);
  std::vector<std::string> out;
  const bool md = whole || file.extension() == ".md";
  const bool cpp = is_cpp(file), hash = has_hash_comments(file), py = file.extension() == ".py";
  bool in_block = false, in_docstring = false;
  for (std::string line; std::getline(in, line);) {
    std::string text;
    if (md) {
      text = line;
    } else if (cpp) {
      text = cpp_comment(line, in_block);
    } else if (hash) {
      std::size_t quotes = 0;
      for (auto at = line.find("\"\"\""); at != std::string::npos; at = line.find("\"\"\"", at + 3))
        ++quotes;
      if (py && (in_docstring || quotes > 0)) {
        text = line;
        if (quotes % 2 == 1) in_docstring = !in_docstring;
      } else {
        // '#' at the line start or after a blank starts a comment ($#, ${#x} and "a#b" do not).
        for (std::size_t at = line.find('#'); at != std::string::npos; at = line.find('#', at + 1))
          if (at == 0 || line[at - 1] == ' ' || line[at - 1] == '\t') {
            text = line.substr(at + 1);
            break;
          }
      }
    }
    out.push_back(text);
  }
  return out;
}

bool is_placeholder(const std::string& token) {
  return token.find_first_of("<>*{}$") != std::string::npos || token.find("...") != std::string::npos;
}

bool exists_as_cited(const fs::path& p) {
  if (fs::exists(p)) return true;
  if (p.has_extension() || !fs::is_directory(p.parent_path())) return false;
  for (const auto& entry : fs::directory_iterator(p.parent_path()))
    if (entry.path().stem() == p.filename()) return true;
  return false;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : "|") + w;
  return out;
}

// "file:line: path" for every cited path under `root` that does not exist.
std::vector<std::string> broken_links(const fs::path& root) {
  std::vector<std::string> src_folders;
  if (fs::is_directory(root / "src"))
    for (const auto& entry : fs::directory_iterator(root / "src"))
      if (entry.is_directory()) src_folders.push_back(entry.path().filename().string());
  // Group 1: what precedes the token (nothing that continues a path); group 2: the token.
  const std::string before = "(^|[^A-Za-z0-9_./$~-])";
  const std::regex top(before + "((?:" + join(kTopFolders) + ")/[A-Za-z0-9_./+<>*{}$-]*)");
  const std::regex in_src(before + "((?:" + join(src_folders) + ")/[A-Za-z0-9_./-]*\\.(?:h|cpp))(?![A-Za-z0-9_])");
  const std::regex md_link("\\]\\(([^)\\s]+)\\)");
  const std::regex url("^[a-z]+:");

  std::vector<std::pair<fs::path, bool>> files = {{root / "README.md", true},
                                                  {root / "CMakeLists.txt", false}};
  for (const auto& folder : kTopFolders) {
    if (!fs::is_directory(root / folder)) continue;
    std::vector<fs::path> found;
    for (const auto& entry : fs::recursive_directory_iterator(root / folder))
      if (entry.is_regular_file() && entry.path().string().find("__pycache__") == std::string::npos)
        found.push_back(entry.path());
    std::sort(found.begin(), found.end());
    for (const auto& f : found) files.emplace_back(f, folder == "docs");
  }

  std::vector<std::string> broken;
  for (const auto& [file, whole] : files) {
    if (!fs::exists(file)) continue;
    if (!(whole || file.extension() == ".md" || is_cpp(file) || has_hash_comments(file))) continue;
    const auto lines = cited_text(file, whole);
    const std::string rel = fs::relative(file, root).generic_string();
    auto check = [&](std::size_t line, std::string token, const std::vector<fs::path>& bases) {
      if (is_placeholder(token)) return;
      while (!token.empty() && std::string(".,:;").find(token.back()) != std::string::npos) token.pop_back();
      if (token.empty()) return;
      for (const auto& base : bases)
        if (exists_as_cited(base / token)) return;
      broken.push_back(rel + ":" + std::to_string(line + 1) + ": " + token);
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string& text = lines[i];
      for (std::sregex_iterator m(text.begin(), text.end(), top), end; m != end; ++m)
        check(i, (*m)[2].str(), {root, root / "src"});  // jobs/ is also a folder of src/
      if (!src_folders.empty())
        for (std::sregex_iterator m(text.begin(), text.end(), in_src), end; m != end; ++m)
          check(i, (*m)[2].str(), {root / "src"});
      if (file.extension() == ".md")
        for (std::sregex_iterator m(text.begin(), text.end(), md_link), end; m != end; ++m) {
          const std::string target = (*m)[1].str().substr(0, (*m)[1].str().find('#'));
          if (!target.empty() && !std::regex_search(target, url)) check(i, target, {file.parent_path()});
        }
    }
  }
  return broken;
}

}  // namespace

TEST(DocsLinks, EveryCitedRepositoryPathExists) {
  const auto broken = broken_links(fs::path(VLMT_SOURCE_DIR));
  std::string list;
  for (const auto& b : broken) list += "  " + b + "\n";
  EXPECT_TRUE(broken.empty()) << broken.size() << " cited paths do not exist:\n" << list;
}

// The scanner itself, on a small tree: what it must report and what it must leave alone.
TEST(DocsLinks, ReportsBrokenPathsAndLeavesPlaceholdersAlone) {
  const fs::path root = fs::temp_directory_path() / ("vlmt_docs_links_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "docs");
  fs::create_directories(root / "src" / "train");
  fs::create_directories(root / "tools");
  const std::string comment(2, '/');  // written so, the scan of this file does not read these lines
  std::ofstream(root / "src" / "train" / "dsg.h") << comment << " see train/dsg.h and train/gone.h\nint x;  "
                                                  << comment << " docs/A.md\nconst char* s = \"docs/none.md /* x\";\n";
  std::ofstream(root / "tools" / "synth.cpp") << "int s = 0;  " << comment << " tools/synth\n";
  std::ofstream(root / "tools" / "run.sh") << "# docs/missing.md\necho \"docs/not_a_comment.md\" $#\n";
  std::ofstream(root / "docs" / "A.md")
      << "[ok](A.md) [gone](B.md) [web](https://x.org/a.md) `src/train/dsg.h`\n"
      << "`checkpoints/synthetic/at/latest.h5` `$VLMT_HOME/slurm/x.sh` `slurm/<stage>.sh` `tools/*.py`\n"
      << "`tools/synth` `docs/` and src/train/missing.cpp\n";
  std::ofstream(root / "README.md") << "docs/A.md docs/C.md\n";
  const auto broken = broken_links(root);
  fs::remove_all(root);
  const std::vector<std::string> expected = {"README.md:1: docs/C.md", "docs/A.md:1: B.md",
                                             "docs/A.md:3: src/train/missing.cpp",
                                             "src/train/dsg.h:1: train/gone.h", "tools/run.sh:1: docs/missing.md"};
  EXPECT_EQ(std::set<std::string>(broken.begin(), broken.end()),
            std::set<std::string>(expected.begin(), expected.end()));
}

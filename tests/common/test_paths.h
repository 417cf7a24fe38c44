#pragma once
// Where the tests find their data, the source tree and the built executables. The paths are
// compiled into one file (test_paths.cpp), so that every other test object is the same for any
// checkout location and ccache reuses it across worktrees and clean clones.
#include <string>

namespace vlmt::test_paths {
const std::string& test_data();   // tests/data
const std::string& source_dir();  // the repository root
const std::string& bin_dir();     // <build>/bin
}  // namespace vlmt::test_paths

#define VLMT_TEST_DATA (::vlmt::test_paths::test_data())
#define VLMT_SOURCE_DIR (::vlmt::test_paths::source_dir())
#define VLMT_BIN_DIR (::vlmt::test_paths::bin_dir())

#include "test_paths.h"

namespace vlmt::test_paths {

const std::string& test_data() {
  static const std::string path = VLMT_TEST_DATA_PATH;
  return path;
}

const std::string& source_dir() {
  static const std::string path = VLMT_SOURCE_DIR_PATH;
  return path;
}

const std::string& bin_dir() {
  static const std::string path = VLMT_BIN_DIR_PATH;
  return path;
}

}  // namespace vlmt::test_paths

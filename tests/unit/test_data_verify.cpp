// Runs the real verify_data executable on a data root built in the test.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>

#include "test_data_root.h"
#include "test_paths.h"

using namespace vlmt;

namespace {
struct ToolRun {
  int code;
  std::string output;
};

ToolRun verify(const std::string& args) {
  const std::string exe = std::string(VLMT_BIN_DIR) + "/verify_data";
  EXPECT_TRUE(std::filesystem::exists(exe)) << exe << " not built";
  std::string output;
  FILE* pipe = ::popen((exe + " " + args + " 2>&1").c_str(), "r");
  char buffer[512];
  while (pipe && std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pipe ? ::pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}
}  // namespace

TEST(VerifyData, CompleteRootPassesAndMissingPiecesAreReported) {
  fixture::TestRoot root = fixture::make_test_root("verify");
  const std::string dir = root.dir.string();
  ToolRun ok = verify("--root " + dir);
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("task guesswhat: OK"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("task pretrain: OK"), std::string::npos) << ok.output;

  fixture::write_lines(root.dir / "annotations" / "snli_ve" / "val.jsonl",
                       {R"({"pair_id": "x", "image_id": "f99", "hypothesis": "a", "label": "neutral"})"});
  std::filesystem::remove(root.dir / "features" / "vg_gt.h5");
  ToolRun bad = verify("--root " + dir + " --tasks snli_ve,visual7w,vqa");
  EXPECT_EQ(bad.code, 3) << bad.output;
  EXPECT_NE(bad.output.find("f99"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("vg_gt.h5"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("task vqa: OK"), std::string::npos) << bad.output;

  std::filesystem::remove(root.dir / "vocab.txt");
  EXPECT_EQ(verify("--root " + dir + " --tasks vqa").code, 3);
}

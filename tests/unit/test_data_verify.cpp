// verify_data's checks (jobs/verify_data_root.h) on a data root built in the test, called
// directly; one run of the real executable for its exit codes.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "jobs/verify_data_root.h"
#include "test_data_root.h"
#include "test_paths.h"

using namespace vlmt;

namespace {

const TaskDataProblems* problems_of(const DataRootReport& report, const std::string& key) {
  for (const auto& task : report.tasks)
    if (task.key == key) return &task;
  return nullptr;
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

int verify_data_exit_code(const std::string& args) {
  const std::string exe = std::string(VLMT_BIN_DIR) + "/verify_data";
  EXPECT_TRUE(std::filesystem::exists(exe)) << exe << " not built";
  FILE* pipe = ::popen((exe + " " + args + " >/dev/null 2>&1").c_str(), "r");
  const int status = pipe ? ::pclose(pipe) : -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST(VerifyData, CompleteRootPassesAndMissingPiecesAreReported) {
  fixture::TestRoot root = fixture::make_test_root("verify");
  DataRootCheckOptions options;
  options.root = root.dir.string();
  std::ostringstream ok_out;
  const DataRootReport ok = verify_data_root(options, ok_out);
  EXPECT_TRUE(ok.ok()) << ok_out.str();
  EXPECT_TRUE(ok.vocab_ok);
  ASSERT_NE(problems_of(ok, "guesswhat"), nullptr) << ok_out.str();
  ASSERT_NE(problems_of(ok, "pretrain"), nullptr) << ok_out.str();
  EXPECT_TRUE(problems_of(ok, "guesswhat")->problems.empty());
  EXPECT_EQ(ok.feature_dims.size(), 1u);
  EXPECT_NE(ok_out.str().find("task guesswhat: OK\n"), std::string::npos) << ok_out.str();
  EXPECT_NE(ok_out.str().find("data root OK\n"), std::string::npos) << ok_out.str();

  fixture::write_lines(root.dir / "annotations" / "snli_ve" / "val.jsonl",
                       {R"({"pair_id": "x", "image_id": "f99", "hypothesis": "a", "label": "neutral"})"});
  std::filesystem::remove(root.dir / "features" / "vg_gt.h5");
  options.task_keys = std::vector<std::string>{"snli_ve", "visual7w", "vqa"};
  std::ostringstream bad_out;
  const DataRootReport bad = verify_data_root(options, bad_out);
  EXPECT_FALSE(bad.ok());
  ASSERT_EQ(bad.tasks.size(), 3u);
  EXPECT_TRUE(mentions(problems_of(bad, "snli_ve")->problems, "'f99'")) << bad_out.str();
  EXPECT_TRUE(mentions(problems_of(bad, "visual7w")->problems, "vg_gt.h5")) << bad_out.str();
  EXPECT_TRUE(problems_of(bad, "vqa")->problems.empty()) << bad_out.str();
  EXPECT_NE(bad_out.str().find("task vqa: OK\n"), std::string::npos) << bad_out.str();
  EXPECT_NE(bad_out.str().find("data root has problems\n"), std::string::npos) << bad_out.str();

  std::filesystem::remove(root.dir / "vocab.txt");
  options.task_keys = std::vector<std::string>{"vqa"};
  std::ostringstream no_vocab_out;
  const DataRootReport no_vocab = verify_data_root(options, no_vocab_out);
  EXPECT_FALSE(no_vocab.vocab_ok);
  EXPECT_FALSE(no_vocab.ok());
  EXPECT_TRUE(no_vocab.tasks.at(0).problems.empty()) << no_vocab_out.str();
}

TEST(VerifyData, DisagreeingFeatureDimensionsAndAnEmptyRootAreProblems) {
  fixture::TestRoot root = fixture::make_test_root("verify_dims");
  DataRootCheckOptions options;
  options.root = root.dir.string();
  // coco.h5 with another feature dimension than the other files.
  std::vector<fixture::TestImage> wide;
  for (const auto& image : root.sources.at("coco"))
    wide.push_back(fixture::random_image(image.id, 5, fixture::kDim * 2, 0, 7));
  fixture::write_feature_file((root.dir / "features" / "coco.h5").string(), wide, false);
  std::ostringstream out;
  const DataRootReport report = verify_data_root(options, out);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.feature_dims.size(), 2u) << out.str();
  EXPECT_NE(out.str().find("feature files disagree on feature_dim:"), std::string::npos) << out.str();

  const std::filesystem::path empty = fixture::fresh_dir("verify_empty");
  std::filesystem::copy_file(root.dir / "vocab.txt", empty / "vocab.txt");
  DataRootCheckOptions none;
  none.root = empty.string();
  std::ostringstream none_out;
  const DataRootReport nothing = verify_data_root(none, none_out);
  EXPECT_TRUE(nothing.no_tasks_found);
  EXPECT_FALSE(nothing.ok());
}

TEST(VerifyData, UnknownTaskAndMissingRootAreErrors) {
  fixture::TestRoot root = fixture::make_test_root("verify_errors");
  DataRootCheckOptions options;
  options.root = root.dir.string();
  options.task_keys = std::vector<std::string>{"no_such_task"};
  std::ostringstream out;
  EXPECT_THROW(verify_data_root(options, out), ConfigError);
  options.task_keys.reset();
  options.root = (root.dir / "missing").string();
  EXPECT_THROW(verify_data_root(options, out), DataError);
}

TEST(VerifyData, ExecutableExitsZeroOnAGoodRootAndThreeOnProblems) {
  fixture::TestRoot root = fixture::make_test_root("verify_exe");
  EXPECT_EQ(verify_data_exit_code("--root " + root.dir.string()), 0);
  std::filesystem::remove(root.dir / "vocab.txt");
  EXPECT_EQ(verify_data_exit_code("--root " + root.dir.string() + " --tasks vqa"), 3);
  EXPECT_EQ(verify_data_exit_code("--root " + root.dir.string() + " --tasks no_such_task"), 2);
}

// results.jsonl and submission files: write, read back, exact formats, clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "core/error.h"
#include "eval/results.h"

namespace vlmt {
namespace {

namespace fs = std::filesystem;

// One scratch directory per process, removed at exit.
struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("vlmt_eval_results_" + std::to_string(::getpid()));
  ~ScratchDir() { fs::remove_all(path); }
};

std::string temp_path(const std::string& name) {
  static ScratchDir scratch;
  const fs::path& dir = scratch.path;
  fs::create_directories(dir);
  const fs::path p = dir / name;
  fs::remove(p);
  return p.string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(EvalResults, RecordsRoundTripWithExtrasAndRunInfo) {
  const std::string path = temp_path("results.jsonl");
  ResultRecord r{"at", "retrieval_coco", "test", "recall@1", 63.7, 5000, {}};
  r.extras = {{"r1", 63.7}, {"r5", 90.84}, {"r10", 96.16}};
  append_result(path, r);
  append_result(path, {"at", "vqa", "test-dev", "vqa_accuracy", 72.57, 107394, {}});
  RunInfo info;
  info.run = "at";
  info.setting = "AT";
  info.params = 270000000;
  info.dsg_gap = 4;
  info.task_sizes = {{"vqa", 542104}};
  append_run_info(path, info);
  {
    std::ofstream extra(path, std::ios::app);  // unknown kinds and fields are tolerated
    extra << "{\"kind\":\"note\",\"text\":\"x\"}\n\n";
  }
  const ResultsFile f = read_results_file(path);
  ASSERT_EQ(f.results.size(), 2u);
  EXPECT_EQ(f.results[0].task, "retrieval_coco");
  EXPECT_DOUBLE_EQ(f.results[0].extras.at("r5").get<double>(), 90.84);
  EXPECT_EQ(f.results[1].n, 107394);
  EXPECT_DOUBLE_EQ(f.results[1].score, 72.57);
  ASSERT_TRUE(f.info.has_value());
  EXPECT_EQ(f.info->setting, "AT");
  EXPECT_EQ(*f.info->params, 270000000);
  EXPECT_FALSE(f.info->models.has_value());
  EXPECT_EQ(*f.info->dsg_gap, 4);
  ASSERT_EQ(f.info->task_sizes.size(), 1u);
  EXPECT_EQ(f.info->task_sizes[0].second, 542104);
  EXPECT_EQ(slurp(path).substr(0, slurp(path).find('\n')),
            R"({"metric":"recall@1","n":5000,"r1":63.7,"r10":96.16,"r5":90.84,"run":"at","score":63.7,"split":"test","task":"retrieval_coco"})");
}

TEST(EvalResults, BadLinesNameFileAndLine) {
  const std::string path = temp_path("bad.jsonl");
  std::ofstream(path) << "{\"run\":\"a\",\"task\":\"vqa\",\"split\":\"val\",\"metric\":\"m\",\"score\":1,\"n\":1}\n{oops\n";
  try {
    read_results_file(path);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2"), std::string::npos) << e.what();
  }
  std::ofstream(path) << "{\"run\":\"a\",\"task\":\"vqa\",\"split\":\"val\",\"metric\":\"m\",\"n\":1}\n";
  try {
    read_results_file(path);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("\"score\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_results_file(temp_path("missing.jsonl")), DataError);
}

TEST(EvalResults, SubmissionFiles) {
  const std::string vqa = temp_path("vqa.json");
  write_vqa_submission(vqa, {{1, "yes"}, {42, "2"}});
  EXPECT_EQ(slurp(vqa), "[{\"answer\":\"yes\",\"question_id\":1},{\"answer\":\"2\",\"question_id\":42}]\n");
  const auto vqa_back = read_vqa_submission(vqa);
  ASSERT_EQ(vqa_back.size(), 2u);
  EXPECT_EQ(vqa_back[1], (std::pair<int64_t, std::string>{42, "2"}));

  const std::string gqa = temp_path("gqa.json");
  write_gqa_submission(gqa, {{"20968436", "table"}});
  EXPECT_EQ(slurp(gqa), "[{\"prediction\":\"table\",\"questionId\":\"20968436\"}]\n");
  EXPECT_EQ(read_gqa_submission(gqa)[0].first, "20968436");

  const std::string nlvr2 = temp_path("nlvr2.csv");
  write_nlvr2_predictions(nlvr2, {{"test1-0-1-0", true}, {"test1-0-1-1", false}});
  EXPECT_EQ(slurp(nlvr2), "test1-0-1-0,True\ntest1-0-1-1,False\n");
  const auto nlvr2_back = read_nlvr2_predictions(nlvr2);
  ASSERT_EQ(nlvr2_back.size(), 2u);
  EXPECT_FALSE(nlvr2_back[1].second);
  EXPECT_THROW(write_nlvr2_predictions(nlvr2, {{"a,b", true}}), DataError);
  std::ofstream(nlvr2) << "x,maybe\n";
  EXPECT_THROW(read_nlvr2_predictions(nlvr2), DataError);

  const std::string preds = temp_path("preds.jsonl");
  write_predictions_jsonl(preds, {{{"id", 7}, {"prediction", 3}, {"correct", true}}});
  const auto items = read_jsonl(preds);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["prediction"], 3);
}

}  // namespace
}  // namespace vlmt

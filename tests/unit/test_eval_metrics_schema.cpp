// metrics.jsonl has one owner of its names (eval/metrics_schema.h): the trainer's records read
// back through the report's reader, and tools/learning_curves.py's names are the owner's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <unistd.h>

#include "core/jsonl.h"
#include "eval/metrics_log.h"
#include "eval/metrics_schema.h"
#include "train/progress.h"
#include "test_paths.h"

namespace vlmt {
namespace {

namespace fs = std::filesystem;

TEST(EvalMetricsSchema, TrainerRecordsReadBackThroughTheReportsReader) {
  const fs::path dir = fs::temp_directory_path() / ("vlmt_metrics_schema_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "metrics.jsonl").string();
  {
    JsonlWriter writer(path);
    TaskProgress vqa;
    vqa.task = "vqa";
    vqa.loss = 1.5;
    writer.write(train_record(3, vqa, 1e-5, 10.0));
    writer.write(val_record(4, "vqa", 1, ValidationSummary{0.625, 1.0, {{"masked_word_accuracy", 0.5}}, {}}));
    DsgEvent stop;
    stop.iteration = 4;
    stop.mode = DsgMode::kStop;
    writer.write(dsg_record("vqa", stop));
    DsgEvent go = stop;
    go.iteration = 6;
    go.mode = DsgMode::kGo;
    writer.write(dsg_record("vqa", go));
  }
  const RunMetrics run = read_metrics_log(path, "run");
  fs::remove_all(dir);
  ASSERT_EQ(run.tasks.count("vqa"), 1u);
  const TaskMetrics& vqa = run.tasks.at("vqa");
  ASSERT_EQ(vqa.train.size(), 1u);
  EXPECT_EQ(vqa.train[0].iter, 3);
  EXPECT_DOUBLE_EQ(vqa.train[0].loss, 1.5);
  ASSERT_EQ(vqa.val.size(), 1u);
  EXPECT_EQ(vqa.val[0].iter, 4);
  EXPECT_DOUBLE_EQ(vqa.val[0].score, 0.625);
  EXPECT_DOUBLE_EQ(vqa.val[0].metrics.at("masked_word_accuracy"), 0.5);
  ASSERT_EQ(vqa.dsg.size(), 2u);
  EXPECT_FALSE(vqa.dsg[0].go);
  EXPECT_TRUE(vqa.dsg[1].go);
  EXPECT_EQ(run.last_iter, 6);
}

// Python cannot include the header: learning_curves.py names each metrics.jsonl name it reads
// in a constant with the C++ constant in a comment (`KIND = "kind"  # metrics_field::kKind`).
TEST(EvalMetricsSchema, LearningCurvesReadsTheseNames) {
  const std::map<std::string, std::string> owner = {
      {"metrics_field::kKind", metrics_field::kKind}, {"metrics_field::kIter", metrics_field::kIter},
      {"metrics_field::kTask", metrics_field::kTask}, {"metrics_field::kScore", metrics_field::kScore},
      {"metrics_kind::kVal", metrics_kind::kVal}};
  std::ifstream in(std::string(VLMT_SOURCE_DIR) + "/tools/learning_curves.py");
  ASSERT_TRUE(in) << "tools/learning_curves.py";
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  const std::regex constant(R"re([A-Z_]+ = "([^"]*)" +# (metrics_[a-z]+::k[A-Za-z]+))re");
  std::map<std::string, std::string> cited;
  std::istringstream lines(source);
  std::smatch m;
  for (std::string line; std::getline(lines, line);)
    if (std::regex_match(line, m, constant)) cited[m[2]] = m[1];
  EXPECT_EQ(cited.size(), owner.size()) << "learning_curves.py should cite exactly the names this test knows";
  for (const auto& [name, value] : cited) {
    ASSERT_EQ(owner.count(name), 1u) << name << " is not a constant this test knows";
    EXPECT_EQ(value, owner.at(name)) << name;
  }
  // Records are read only through those constants, never through a name spelled inline.
  EXPECT_EQ(source.find("record.get(\""), std::string::npos);
  EXPECT_EQ(source.find("record[\""), std::string::npos);
}

}  // namespace
}  // namespace vlmt

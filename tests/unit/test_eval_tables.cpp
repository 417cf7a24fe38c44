// Tables 2, 6 and 11 from result files written here; exact Markdown cells, and the `tables` tool.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <unistd.h>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/paper_row.h"
#include "eval/results.h"
#include "eval/runs_file.h"
#include "eval/table_layouts.h"
#include "test_paths.h"

namespace vlmt {
namespace {

namespace fs = std::filesystem;

class EvalTables : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vlmt_eval_tables_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // AT: all 12 tasks (scores of the paper's Table 2 row 4) + a caption-retrieval record that
    // the tables must ignore (its metric is not the task's metric).
    const std::map<std::string, double> at = {
        {"vqa", 72.57}, {"gqa", 60.12}, {"vgqa", 36.36}, {"retrieval_coco", 63.70},
        {"retrieval_flickr30k", 63.52}, {"refcoco", 80.58}, {"refcoco+", 73.25},
        {"refcocog", 75.96}, {"visual7w", 82.75}, {"guesswhat", 65.04}, {"nlvr2", 78.44},
        {"snli_ve", 76.78}};
    at_ = (dir_ / "at.jsonl").string();
    for (const auto& [task, score] : at) {
      ResultRecord r{"at_run", task, "test", metric_of(task), score, 100, {}};
      if (task == "retrieval_coco") r.extras = {{"r1", 63.70}, {"r5", 90.84}, {"r10", 96.16}};
      append_result(at_, r);
    }
    append_result(at_, {"at_run", "retrieval_coco", "test", "caption_recall@1", 99.0, 100, {}});
    RunInfo info;
    info.run = "at_run";
    info.setting = "AT";
    info.params = 270000000;
    info.dsg_gap = 4;
    append_run_info(at_, info);
    // ST: two single-task runs merged into one row.
    for (const auto& [task, score] : std::map<std::string, double>{{"vqa", 71.82}, {"gqa", 58.19}}) {
      const std::string path = (dir_ / ("st_" + task + ".jsonl")).string();
      append_result(path, {"st_" + task, task, "test-dev", "vqa_accuracy", score, 10, {}});
      RunInfo st;
      st.run = "st_" + task;
      st.setting = "ST";
      st.params = 250000000;
      append_run_info(path, st);
      st_.push_back(path);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string metric_of(const std::string& task) {
    if (task == "vqa" || task == "gqa" || task == "vgqa") return "vqa_accuracy";
    if (task.rfind("retrieval", 0) == 0) return "recall@1";
    return "accuracy";
  }
  std::vector<ResultsFile> files() const {
    return {read_results_file(at_), read_results_file(st_[0]), read_results_file(st_[1])};
  }
  fs::path dir_;
  std::string at_;
  std::vector<std::string> st_;
};

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST_F(EvalTables, Table2) {
  const std::string md = to_markdown(make_table2(files()));
  EXPECT_TRUE(has_line(md, "| Run | VQAv2 | GQA | VG QA | COCO | Flickr30k | RefCOCO | RefCOCO+ | "
                           "RefCOCOg | V7W | GW | NLVR2 | SNLI-VE | G1 | G2 | G3 | G4 | "
                           "# params (# models) | All Tasks Average |")) << md;
  EXPECT_TRUE(has_line(md, "| AT | 72.57 | 60.12 | 36.36 | 63.70 | 63.52 | 80.58 | 73.25 | 75.96 | "
                           "82.75 | 65.04 | 78.44 | 76.78 | 56.35 | 63.61 | 75.52 | 77.61 | "
                           "270M (1) | 69.09 |")) << md;
  EXPECT_TRUE(has_line(md, "| ST | 71.82 | 58.19 | - | - | - | - | - | - | - | - | - | - | - | - | "
                           "- | - | 500M (2) | - |")) << md;
}

// Records carrying a chance level add a chance row under the runs (Tables 2 and 6).
TEST_F(EvalTables, ChanceRowFromTheRecords) {
  const std::string path = (dir_ / "chance.jsonl").string();
  append_result(path, {"at_chance", "vqa", "val", "vqa_accuracy", 40.0, 100, {{"chance", 25.0}}});
  append_result(path, {"at_chance", "nlvr2", "val", "accuracy", 70.0, 100, {{"chance", 51.5}}});
  const std::vector<ResultsFile> files = {read_results_file(path)};
  const std::string t2 = to_markdown(make_table2(files));
  EXPECT_TRUE(has_line(t2, "| chance (uniform choice / answer prior) | 25.00 | - | - | - | - | - | - | - | - | - | "
                           "51.50 | - | - | - | - | - | - | - |")) << t2;
  const std::string t6 = to_markdown(make_table6(files));
  EXPECT_NE(t6.find("| chance (uniform choice / answer prior) |"), std::string::npos) << t6;
  // Without chance levels there is no such row.
  EXPECT_EQ(to_markdown(make_table2(this->files())).find("chance"), std::string::npos);
}

TEST_F(EvalTables, Table6And11) {
  const std::string t6 = to_markdown(make_table6(files()));
  EXPECT_TRUE(has_line(t6, "| AT | 56.35 | 63.61 | 75.52 | 77.61 | 69.09 |")) << t6;
  EXPECT_TRUE(has_line(t6, "| ST | - | - | - | - | - |")) << t6;
  const std::string t11 = to_markdown(make_table11(files()));
  EXPECT_TRUE(has_line(t11, "| Δ 1 | - | - | - | - | - | - | - | - | - | - | - | - | - | - | - | "
                            "- | - | - | - | - | - |")) << t11;
  EXPECT_TRUE(has_line(t11, "| Δ 4 | 72.57 | 36.36 | 60.12 | 56.35 | 63.70 | 90.84 | 96.16 | "
                            "63.52 | - | - | 63.61 | 80.58 | 73.25 | 75.96 | 82.75 | 65.04 | "
                            "75.52 | 78.44 | 76.78 | 77.61 | 69.09 |")) << t11;
  EXPECT_NE(t11.find("| Δ 16 |"), std::string::npos);
}

TEST_F(EvalTables, RunsFileLabelsRunsWithoutRunInfo) {
  const std::string abl = (dir_ / "abl.jsonl").string();
  append_result(abl, {"abl_run", "vqa", "test-dev", "vqa_accuracy", 71.99, 10, {}});
  const std::string toml = (dir_ / "runs.toml").string();
  std::ofstream(toml) << "[runs.abl_run]\nsetting = \"w/o DSG\"\ndsg_gap = 1\n";
  std::vector<ResultsFile> all = files();
  all.push_back(read_results_file(abl));
  apply_runs_file(toml, all);
  const std::string t6 = to_markdown(make_table6(all));
  EXPECT_TRUE(has_line(t6, "| w/o DSG | - | - | - | - | - |")) << t6;
  const std::string t11 = to_markdown(make_table11(all));
  EXPECT_NE(t11.find("\n| Δ 1 | 71.99 | - |"), std::string::npos) << t11;
  std::ofstream(toml) << "[runs.abl_run]\nsettings = \"x\"\n";
  EXPECT_THROW(apply_runs_file(toml, all), ConfigError);
  std::ofstream(toml) << "[runs.nobody]\nsetting = \"x\"\n";
  EXPECT_THROW(apply_runs_file(toml, all), ConfigError);
  // Every mistake at once, and no file changed.
  std::ofstream(toml) << "[runs.abl_run]\nsetting = \"changed\"\ndsg_gap = \"four\"\n[runs.nobody]\nmodels = 1\n";
  try {
    apply_runs_file(toml, all);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    for (const char* key : {"runs.abl_run.dsg_gap", "runs.nobody"})
      EXPECT_NE(text.find(key), std::string::npos) << key << " in " << text;
  }
  EXPECT_EQ(all.back().info->setting, "w/o DSG");
}

// Table 11's columns are the catalogue's: each dataset with a Table 11 column, its extras after
// it, a mean per group, the MT score last.
TEST_F(EvalTables, Table11ColumnsComeFromTheCatalogue) {
  const TextTable t11 = make_table11(files());
  size_t expected = 1 + dataset_groups().size() + 1;  // "DSG gap", group means, "MT Score"
  for (const TaskSpec& t : TaskCatalog::builtin().datasets()) {
    if (t.table11_position < 0) continue;
    expected += 1 + t.table11_extras.size();
    EXPECT_NE(std::find(t11.header.begin(), t11.header.end(), t.table11_column), t11.header.end()) << t.key;
  }
  EXPECT_EQ(t11.header.size(), expected);
  for (const auto& g : dataset_groups())
    EXPECT_NE(std::find(t11.header.begin(), t11.header.end(), g.mean_column), t11.header.end()) << g.mean_column;
  EXPECT_EQ(t11.header.back(), "MT Score");
  // The table code names no task: its layouts come from the catalogue only.
  for (const char* file : {"table_layouts.cpp", "result_rows.cpp", "table_render.cpp"}) {
    std::ifstream in(std::string(VLMT_SOURCE_DIR) + "/src/eval/" + file);
    ASSERT_TRUE(in) << file;
    const std::string code((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const TaskSpec& t : TaskCatalog::builtin().datasets())
      EXPECT_EQ(code.find("\"" + t.key + "\""), std::string::npos) << file << " names task " << t.key;
  }
}

// Table 2 beside a row of the paper (configs/paper/table2.toml, the repository's file): the
// paper's printed numbers, group means from them, and the difference to the first run; a task
// whose split has no labels (VQA test-dev) is "-" in the run's row and in the difference.
TEST_F(EvalTables, Table2BesideThePaper) {
  const PaperRow paper = read_paper_row(std::string(VLMT_SOURCE_DIR) + "/configs/paper/table2.toml", 4);
  EXPECT_EQ(paper.setting, "All-Tasks (AT)");
  EXPECT_EQ(paper.scores.size(), 12u);
  const std::string path = (dir_ / "release.jsonl").string();
  append_result(path, {"vlmt", "vqa", "test-dev", "vqa_accuracy", 0.0, 0, {{"has_ground_truth", false}}});
  append_result(path, {"vlmt", "gqa", "test-dev", "vqa_accuracy", 60.0, 10, {}});
  append_result(path, {"vlmt", "nlvr2", "test", "accuracy", 79.44, 10, {}});
  const std::string md = to_markdown(make_table2_vs_paper({read_results_file(path)}, paper));
  EXPECT_NE(md.find("Lu et al., CVPR 2020, Table 2, row 4"), std::string::npos) << md;
  EXPECT_TRUE(has_line(md, "| vlmt | - | 60.00 | - | - | - | - | - | - | - | - | 79.44 | - | - | - | - | - | - | - |")) << md;
  EXPECT_TRUE(has_line(md, "| paper: row 4, All-Tasks (AT) | 72.57 | 60.12 | 36.36 | 63.70 | 63.52 | 80.58 | 73.25 | "
                           "75.96 | 82.75 | 65.04 | 78.44 | 76.78 | 56.35 | 63.61 | 75.52 | 77.61 | 270M (1) | 69.08 |")) << md;
  EXPECT_TRUE(has_line(md, "| Δ vlmt − paper | - | -0.12 | - | - | - | - | - | - | - | - | +1.00 | - | - | - | - | - |  | - |")) << md;
  // Row 5 prints "-" for G4 and the average: absent, not zero.
  const PaperRow row5 = read_paper_row(std::string(VLMT_SOURCE_DIR) + "/configs/paper/table2.toml", 5);
  EXPECT_EQ(row5.scores.count("nlvr2"), 0u);
  EXPECT_FALSE(row5.average.has_value());
  EXPECT_THROW(read_paper_row(std::string(VLMT_SOURCE_DIR) + "/configs/paper/table2.toml", 11), ConfigError);
  const std::string bad = (dir_ / "paper.toml").string();
  std::ofstream(bad) << "[[rows]]\nrow = 1\nscores = { vqa = \"high\" }\n";
  EXPECT_THROW(read_paper_row(bad, 1), ConfigError);
  // Every mistake of the file at once, each with its key.
  std::ofstream(bad) << "[[rows]]\nrow = 1\nscores = { vqa = \"high\", nosuch = 1.0 }\n[[rows]]\nscores = {}\n";
  try {
    read_paper_row(bad, 1);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    for (const char* key : {"rows[0].scores.vqa", "rows[0].scores.nosuch", "rows[1].row"})
      EXPECT_NE(text.find(key), std::string::npos) << key << " in " << text;
  }
}

// Runs of one setting with several seeds: every cell is mean ± sample sd over the seeds (group
// means per seed first); parameters and models count one seed's runs; a task one seed lacks is "-".
TEST_F(EvalTables, SeedsGiveMeanAndStandardDeviation) {
  std::vector<ResultsFile> all;
  const std::map<int64_t, std::pair<double, double>> scores = {{1, {70.0, 50.0}}, {2, {72.0, 54.0}}, {3, {74.0, 58.0}}};
  for (const auto& [seed, vqa_nlvr2] : scores) {
    const std::string path = (dir_ / cat("at_s", seed, ".jsonl")).string();
    append_result(path, {cat("at_s", seed), "vqa", "val", "vqa_accuracy", vqa_nlvr2.first, 128, {}});
    append_result(path, {cat("at_s", seed), "nlvr2", "val", "accuracy", vqa_nlvr2.second, 128, {}});
    if (seed != 2) append_result(path, {cat("at_s", seed), "gqa", "val", "vqa_accuracy", 40.0, 128, {}});
    RunInfo info;
    info.run = cat("at_s", seed);
    info.setting = "AT";
    info.params = 1000;
    info.seed = seed;
    append_run_info(path, info);
    all.push_back(read_results_file(path));
  }
  const std::string t2 = to_markdown(make_table2(all));
  EXPECT_TRUE(has_line(t2, "| AT | 72.00 ± 2.00 | - | - | - | - | - | - | - | - | - | 54.00 ± 4.00 | - | - | - | - | "
                           "- | 1K (1) | - |")) << t2;
  EXPECT_EQ(format_mean_sd({1.0}), "1.00 ± 0.00");
  EXPECT_EQ(format_mean_sd({}), "-");
  // The runs file can give a run's seed.
  const std::string toml = (dir_ / "seeds.toml").string();
  std::ofstream(toml) << "[runs.at_s3]\nseed = 2\n";  // now seeds 1 and 2 (twice: last read wins)
  apply_runs_file(toml, all);
  EXPECT_NE(to_markdown(make_table2(all)).find("| AT | 72.00 ± 2.83 |"), std::string::npos) << to_markdown(make_table2(all));
}

TEST(EvalTablesFormat, ParamsAndScores) {
  EXPECT_EQ(format_params(270000000), "270M");
  EXPECT_EQ(format_params(3000000000), "3B");
  EXPECT_EQ(format_params(1080000000), "1.1B");
  EXPECT_EQ(format_score(std::nullopt), "-");
  EXPECT_EQ(format_score(69.0891), "69.09");
}

TEST_F(EvalTables, ToolPrintsTheRequestedTable) {
  const std::string cmd = std::string(VLMT_BIN_DIR) + "/tables " + at_ + " " + st_[0] + " " +
                          st_[1] + " --table 6 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  EXPECT_EQ(::pclose(pipe), 0) << out;
  EXPECT_TRUE(has_line(out, "| AT | 56.35 | 63.61 | 75.52 | 77.61 | 69.09 |")) << out;
  EXPECT_EQ(out.find("VQAv2"), std::string::npos);  // only Table 6
  FILE* bad = ::popen((std::string(VLMT_BIN_DIR) + "/tables " + at_ + " --table 3 2>&1").c_str(), "r");
  ASSERT_NE(bad, nullptr);
  while (std::fread(buf.data(), 1, buf.size(), bad)) {
  }
  EXPECT_EQ(WEXITSTATUS(::pclose(bad)), 2);
}

}  // namespace
}  // namespace vlmt

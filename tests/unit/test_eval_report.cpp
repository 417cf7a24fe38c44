// HTML report from synthetic metrics.jsonl: well-formed nesting, expected plots and tables,
// DSG intervals, SVG helper details.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <unistd.h>

#include "core/error.h"
#include "eval/html_report.h"
#include "eval/metrics_log.h"
#include "eval/svg_plot.h"
#include "test_paths.h"

namespace vlmt {
namespace {

namespace fs = std::filesystem;

// Checks that every element is closed in order (void elements must self-close with "/>").
// Returns "" when balanced, else a description of the first problem.
std::string nesting_error(const std::string& html) {
  std::vector<std::string> open;
  const std::regex tag(R"(<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>)");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::string closing = (*it)[1], name = (*it)[2], self_closing = (*it)[3];
    if (!self_closing.empty()) continue;
    if (closing.empty()) {
      open.push_back(name);
    } else {
      if (open.empty() || open.back() != name)
        return "unexpected </" + name + "> (open: " + (open.empty() ? "none" : open.back()) + ")";
      open.pop_back();
    }
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

class EvalReport : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("vlmt_eval_report_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "at");
    fs::create_directories(root_ / "st_vqa");
    std::ofstream at(root_ / "at" / "metrics.jsonl");
    at << R"({"kind":"run_info","run":"at","params":270000000,"tasks":{"vqa":1000,"refcoco":100},"extra":1})" << "\n";
    for (int it = 0; it <= 10; ++it) {
      at << R"({"kind":"train","iter":)" << it << R"(,"task":"vqa","loss":)" << 2.0 - 0.1 * it
         << R"(,"score":0.5,"lr":1e-5,"samples_per_s":100})" << "\n";
      if (it % 2 == 0)
        at << R"({"kind":"train","iter":)" << it << R"(,"task":"refcoco","loss":1.0})" << "\n";
    }
    at << R"({"kind":"val","iter":5,"task":"vqa","epoch":0,"score":60.0})" << "\n"
       << R"({"kind":"val","iter":10,"task":"vqa","epoch":1,"score":65.5})" << "\n"
       << R"({"kind":"dsg","iter":4,"task":"refcoco","state":"stop","best":70})" << "\n"
       << R"({"kind":"dsg","iter":8,"task":"refcoco","state":"go","best":70})" << "\n"
       << R"({"kind":"lr_warmup","iter":1,"note":"unknown kinds are ignored"})" << "\n";
    at.close();
    std::ofstream(root_ / "at" / "results.jsonl")
        << R"({"run":"at","task":"vqa","split":"test-dev","metric":"vqa_accuracy","score":72.5,"n":10})" << "\n";
    std::ofstream st(root_ / "st_vqa" / "metrics.jsonl");
    for (int it = 0; it < 6; ++it)
      st << R"({"kind":"train","iter":)" << it << R"(,"task":"vqa","loss":)" << 3.0 - 0.2 * it << "}\n";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(EvalReport, WellFormedPageWithExpectedPlots) {
  const std::string out = (root_ / "report.html").string();
  const ReportCounts c = write_report({(root_ / "at").string(), (root_ / "st_vqa").string()}, out);
  std::ifstream in(out);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string html = buf.str();
  EXPECT_EQ(nesting_error(html), "");
  // loss: vqa, refcoco; val: vqa; timeline: at; scatter: at.
  EXPECT_EQ(c.loss_plots, 2);
  EXPECT_EQ(c.val_plots, 1);
  EXPECT_EQ(c.timeline_plots, 1);
  EXPECT_EQ(c.scatter_plots, 1);
  EXPECT_EQ(count(html, "<svg "), 5u);
  EXPECT_EQ(count(html, "</svg>"), 5u);
  EXPECT_EQ(count(html, "<table>"), 2u);  // Tables 2 and 6 (no DSG gap, so no Table 11)
  EXPECT_NE(html.find("<td>72.50</td>"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no external links
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(count(html, "stroke-width=\"7\""), 2u);  // two go intervals of refcoco
}

// A run evaluated with evaluate's defaults keeps its results in eval_val/: the report finds them.
TEST_F(EvalReport, ReadsEvaluateDefaultResultsDirectory) {
  fs::create_directories(root_ / "st_vqa" / "eval_val");
  std::ofstream(root_ / "st_vqa" / "eval_val" / "results.jsonl")
      << R"({"run":"st_vqa","task":"vqa","split":"val","metric":"vqa_accuracy","score":41.25,"n":8})" << "\n";
  ReportCounts c;
  const std::string html = render_report({(root_ / "st_vqa").string()}, &c);
  EXPECT_EQ(c.tables, 2);
  EXPECT_NE(html.find("<td>41.25</td>"), std::string::npos);
}

TEST_F(EvalReport, ToolWritesReportAndRejectsMissingRun) {
  const std::string out = (root_ / "tool.html").string();
  const std::string bin = std::string(VLMT_BIN_DIR) + "/report ";
  EXPECT_EQ(std::system((bin + (root_ / "at").string() + " --out " + out + " >/dev/null 2>&1").c_str()), 0);
  EXPECT_TRUE(fs::exists(out));
  const int rc = std::system((bin + (root_ / "nope").string() + " --out " + out + " >/dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 3);
}

TEST_F(EvalReport, MetricsReaderAndIntervals) {
  const RunMetrics run = read_metrics_log((root_ / "at" / "metrics.jsonl").string(), "dir");
  EXPECT_EQ(run.name, "at");
  EXPECT_EQ(run.last_iter, 10);
  EXPECT_EQ(run.tasks.at("vqa").updates, 11);
  EXPECT_EQ(run.tasks.at("refcoco").updates, 6);
  const auto iv = dsg_intervals(run.tasks.at("refcoco"), run.last_iter);
  ASSERT_EQ(iv.size(), 3u);
  EXPECT_TRUE(iv[0].go && iv[0].begin == 0 && iv[0].end == 4);
  EXPECT_TRUE(!iv[1].go && iv[1].begin == 4 && iv[1].end == 8);
  EXPECT_TRUE(iv[2].go && iv[2].begin == 8 && iv[2].end == 10);
  std::ofstream(root_ / "bad.jsonl") << R"({"kind":"dsg","iter":1,"task":"vqa","state":"pause"})" << "\n";
  EXPECT_THROW(read_metrics_log((root_ / "bad.jsonl").string(), "x"), DataError);
}

// Pretraining's validation records carry further metrics: the reader keeps them and the report
// plots each (score, then one plot per metric).
TEST_F(EvalReport, PretrainingValidationMetricsArePlotted) {
  fs::create_directories(root_ / "pretrain");
  std::ofstream(root_ / "pretrain" / "metrics.jsonl")
      << R"({"kind":"train","iter":10,"task":"pretrain","loss":9.0})" << "\n"
      << R"({"kind":"val","iter":10,"task":"pretrain","epoch":0,"score":0.5,)"
      << R"("metrics":{"masked_word_accuracy":0.25,"masked_region_kl":2.5,"alignment_accuracy":0.5}})" << "\n"
      << R"({"kind":"val","iter":20,"task":"pretrain","epoch":1,"score":0.75,)"
      << R"("metrics":{"masked_word_accuracy":0.5,"masked_region_kl":1.5,"alignment_accuracy":0.75}})" << "\n";
  const RunMetrics run = read_metrics_log((root_ / "pretrain" / "metrics.jsonl").string(), "pretrain");
  ASSERT_EQ(run.tasks.at("pretrain").val.size(), 2u);
  EXPECT_DOUBLE_EQ(run.tasks.at("pretrain").val[1].metrics.at("masked_region_kl"), 1.5);
  ReportCounts c;
  const std::string html = render_report({(root_ / "pretrain").string()}, &c);
  EXPECT_EQ(c.val_plots, 4);
  EXPECT_NE(html.find("pretrain: validation masked_word_accuracy"), std::string::npos);
}

TEST(EvalSvg, TicksEscapingAndMarks) {
  EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(0, 100, 4), (std::vector<double>{0, 50, 100}));
  EXPECT_EQ(nice_ticks(3, 11, 4), (std::vector<double>{4, 6, 8, 10}));
  EXPECT_EQ(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
  SvgPlot plot("t<1>", "x", "y");
  plot.add_line("run & co", {0, 1, 2}, {1, 2, 3});
  plot.add_scatter("pts", {1, 2}, {3, 4}, {"a", "b"});
  const std::string svg = plot.render();
  EXPECT_EQ(nesting_error(svg), "");
  EXPECT_EQ(count(svg, "<polyline"), 1u);
  EXPECT_EQ(count(svg, "<circle"), 2u);
  EXPECT_NE(svg.find("run &amp; co"), std::string::npos);
  EXPECT_THROW(plot.add_line("bad", {0, 1}, {1}), DataError);
}

TEST(EvalSvg, ALineOfOnePointIsMarked) {
  // A run validated once (at its end) gives a one-point line, which a polyline alone hides.
  SvgPlot plot("val", "iteration", "score");
  plot.add_line("pretrain", {150}, {0.52});
  plot.add_line("at", {10, 20}, {0.1, 0.2});
  const std::string svg = plot.render();
  EXPECT_EQ(nesting_error(svg), "");
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_EQ(count(svg, "<circle"), 1u);
}

}  // namespace
}  // namespace vlmt

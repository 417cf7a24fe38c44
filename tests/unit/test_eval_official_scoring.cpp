// evaluate's official VQA-type scoring from the raw human answers (HumanAnswerScorer) and MT-VGC
// over evaluate's per-item predictions (mt_vgc_from_results), with hand-computed values.
#include <gtest/gtest.h>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "eval/human_answer_score.h"
#include "eval/mt_vgc_results.h"
#include "test_synth_util.h"

namespace vlmt {
namespace {

using testing::TempDir;
using testing::write_lines;

TEST(EvalHumanAnswers, VqaTenAnswersLeaveOneOut) {
  TempDir dir("human_answers");
  const auto path = dir.path() / "val.jsonl";
  write_lines(
      path,
      {R"({"question_id":"1","image_id":"9","question":"q?","answers":["yes","yes","yes","no","no","Yes.","yes ","no","maybe","2"],"labels":[0],"scores":[1]})",
       R"({"question_id":"2","image_id":"9","question":"q?"})",
       R"({"question_id":"3","image_id":"9","question":"q?","labels":[0],"scores":[1]})"});
  const HumanAnswerScorer s(path.string(), builtin_task("vqa").exact_answer_match);
  // Normalised humans: yes ×5, no ×3, maybe, 2.
  EXPECT_DOUBLE_EQ(*s.score("1", "yes"), 1.0);      // every subset of 9 has >= 4 yes
  EXPECT_NEAR(*s.score("1", "no"), 0.9, 1e-12);     // (3 · 2/3 + 7 · 1) / 10
  EXPECT_NEAR(*s.score("1", "maybe"), 0.3, 1e-12);  // (0 + 9 · 1/3) / 10
  EXPECT_NEAR(*s.score("1", "two"), 0.3, 1e-12);    // "two" normalises to "2"
  EXPECT_DOUBLE_EQ(*s.score("1", "blue"), 0.0);
  EXPECT_FALSE(s.score("2", "yes").has_value());  // test question: no human answers
  EXPECT_EQ(s.labelled_without_answers(), 1);     // question 3
  EXPECT_THROW(s.score("404", "yes"), DataError);
}

// VG QA uses the VQA evaluation: one answer is unanimous, so it is an exact, case-sensitive
// match (vqaEval.py normalises only when the humans disagree); GQA is an exact string match.
TEST(EvalHumanAnswers, SingleAnswerVgqaUnanimousGqaExact) {
  TempDir dir("human_answers1");
  const auto path = dir.path() / "val.jsonl";
  write_lines(path,
              {R"({"question_id":"a","image_id":"9","question":"q?","answers":["The table"]})"});
  const HumanAnswerScorer vgqa(path.string(), builtin_task("vgqa").exact_answer_match);
  EXPECT_DOUBLE_EQ(*vgqa.score("a", "The table "), 1.0);  // only whitespace is stripped
  EXPECT_DOUBLE_EQ(*vgqa.score("a", "the Table"), 0.0);   // case-sensitive
  EXPECT_DOUBLE_EQ(*vgqa.score("a", "table"), 0.0);       // not normalised: unanimous
  EXPECT_DOUBLE_EQ(*vgqa.score("a", "chair"), 0.0);
  const HumanAnswerScorer gqa(path.string(), builtin_task("gqa").exact_answer_match);
  EXPECT_DOUBLE_EQ(*gqa.score("a", "The table"), 1.0);
  EXPECT_DOUBLE_EQ(*gqa.score("a", "table"), 0.0);  // GQA: exact string match
}

// results.jsonl + predictions + annotations as evaluate writes them.
void write_evaluated_split(const std::filesystem::path& dir, const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  for (const char* t : {"vqa", "refcoco", "refcoco+"})
    fs::create_directories(root / "annotations" / t);
  fs::create_directories(dir / "predictions");
  write_lines(root / "annotations/vqa/val.jsonl",
              {R"({"question_id":"q1","image_id":"A","question":"What color is the dog?"})",
               R"({"question_id":"q2","image_id":"A","question":"How many cats are there?"})",
               R"({"question_id":"q3","image_id":"B","question":"Is the red car parked?"})",
               R"({"question_id":"q4","image_id":"B","question":"Is the red car new?"})"});
  write_lines(dir / "predictions/vqa_val.jsonl",
              {R"({"id":"q1","image_id":"A","answer":"brown","correct":true})",
               R"({"id":"q2","image_id":"A","answer":"1","correct":false})",
               R"({"id":"q3","image_id":"B","answer":"yes","correct":true})",
               R"({"id":"q4","image_id":"B","answer":"yes"})"});  // no ground truth: not counted
  write_lines(root / "annotations/refcoco/val.jsonl",
              {R"({"ref_id":"r1","image_id":"A","expression":"brown dog on left","box":[0,0,1,1]})",
               R"({"ref_id":"r2","image_id":"A","expression":"cat on the couch","box":[0,0,1,1]})",
               R"({"ref_id":"r3","image_id":"B","expression":"red car","box":[0,0,1,1]})"});
  write_lines(dir / "predictions/refcoco_val.jsonl",
              {R"({"id":"r1","correct":true})", R"({"id":"r2","correct":true})",
               R"({"id":"r3","correct":false})"});
  // RefCOCO lines are sentences: two share the ref id p1 (the k-th prediction of p1 is its k-th
  // sentence).
  write_lines(root / "annotations/refcoco+/val.jsonl",
              {R"({"ref_id":"p1","image_id":"B","expression":"red car","box":[0,0,1,1]})",
               R"({"ref_id":"p1","image_id":"B","expression":"small cat","box":[0,0,1,1]})"});
  write_lines(dir / "predictions/refcoco+_val.jsonl",
              {R"({"id":"p1","correct":true})", R"({"id":"p1","correct":false})"});
  std::vector<std::string> results = {R"({"kind":"run_info","run":"at"})"};
  for (const std::string t : {"vqa", "refcoco", "refcoco+"})
    results.push_back(
        nlohmann::json{{"run", "at"},
                       {"task", t},
                       {"split", "val"},
                       {"metric", "m"},
                       {"score", 1},
                       {"n", 1},
                       {"annotations", (root / "annotations" / t / "val.jsonl").string()},
                       {"predictions", (dir / "predictions" / (t + "_val.jsonl")).string()}}
            .dump());
  write_lines(dir / "results.jsonl", results);
}

TEST(EvalMtVgcResults, WeightsPairsFromPredictionsAndAnnotations) {
  TempDir tmp("mt_vgc_results");
  write_evaluated_split(tmp.path() / "eval", tmp.path() / "data");
  MtVgcOptions o;
  o.results_dir = (tmp.path() / "eval").string();
  const ResultRecord r = mt_vgc_from_results(o);
  // RefCOCO alone: d(q1,r1)=1 both right, d(q2,r2)=1 q2 wrong, d(q3,r3)=2 r3 wrong → 1/4.
  EXPECT_DOUBLE_EQ(r.extras["refcoco"].get<double>(), 25.0);
  // RefCOCO+ alone: d(q3, "red car")=2 both right, d(q3, "small cat")=0 → 100.
  // Together: (1 + 2) / (4 + 2).
  EXPECT_DOUBLE_EQ(r.extras["refcoco+"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(r.score, 50.0);
  EXPECT_EQ(r.task, kMtVgcTask);
  EXPECT_EQ(r.run, "at");
  EXPECT_EQ(r.n, 2 * 2 + 1 * 3);  // pairs: image A 2×2, image B 1×(1 + 2)
  EXPECT_EQ(r.extras["images"].get<int64_t>(), 2);
  EXPECT_EQ(r.extras["questions"].get<int64_t>(), 3);
}

TEST(EvalMtVgcResults, DataRootOverrideAndMissingRecords) {
  TempDir tmp("mt_vgc_results2");
  write_evaluated_split(tmp.path() / "eval", tmp.path() / "data");
  std::filesystem::rename(tmp.path() / "data", tmp.path() / "moved");
  MtVgcOptions o;
  o.results_dir = (tmp.path() / "eval").string();
  EXPECT_THROW(mt_vgc_from_results(o), DataError);  // recorded annotation paths are gone
  o.data_root = (tmp.path() / "moved").string();
  EXPECT_DOUBLE_EQ(mt_vgc_from_results(o).score, 50.0);
  o.split = "test";
  try {
    mt_vgc_from_results(o);
    FAIL() << "no vqa result for split test";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no vqa result for split test"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace vlmt

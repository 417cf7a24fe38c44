// VQA normalisation and accuracy against hand-computed values of the official evaluation.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "eval/vqa_accuracy.h"
#include "test_paths.h"

namespace vlmt {
namespace {

TEST(EvalVqaNormalize, PunctuationRules) {
  EXPECT_EQ(normalize_vqa_answer("Yes."), "yes");             // period not before a digit
  EXPECT_EQ(normalize_vqa_answer("2.5"), "2.5");              // decimal point kept
  EXPECT_EQ(normalize_vqa_answer("3."), "3");
  EXPECT_EQ(normalize_vqa_answer("1,000"), "1000");           // comma between digits
  EXPECT_EQ(normalize_vqa_answer("3,4 and 5-6"), "34 and 56");// digit comma: all punct deleted
  EXPECT_EQ(normalize_vqa_answer("left-right"), "left right");// not touching a space: a space
  EXPECT_EQ(normalize_vqa_answer("red - white"), "red white");// touching a space: deleted
  EXPECT_EQ(normalize_vqa_answer("yes, it is"), "yes it is");
  EXPECT_EQ(normalize_vqa_answer("(cat)"), "cat");
  EXPECT_EQ(normalize_vqa_answer("what's this?"), "what's this");
}

TEST(EvalVqaNormalize, WordsNumbersArticlesContractions) {
  EXPECT_EQ(normalize_vqa_answer("Two dogs"), "2 dogs");
  EXPECT_EQ(normalize_vqa_answer("ten"), "10");
  EXPECT_EQ(normalize_vqa_answer("  \tNone\n"), "0");
  EXPECT_EQ(normalize_vqa_answer("The Dog"), "dog");
  EXPECT_EQ(normalize_vqa_answer("an apple and a pear"), "apple and pear");
  EXPECT_EQ(normalize_vqa_answer("dont"), "don't");
  EXPECT_EQ(normalize_vqa_answer("It isnt."), "it isn't");
  EXPECT_EQ(normalize_vqa_answer("   "), "");
  EXPECT_EQ(normalize_vqa_answer("eleven"), "eleven");  // only zero..ten are mapped
}

std::vector<std::string> humans(int matching, const std::string& answer = "yes") {
  std::vector<std::string> a(10, "no");
  for (int i = 0; i < matching; ++i) a[static_cast<size_t>(i)] = answer;
  return a;
}

TEST(EvalVqaAccuracy, LeaveOneOutOfTen) {
  EXPECT_DOUBLE_EQ(vqa_accuracy("yes", humans(0)), 0.0);
  EXPECT_NEAR(vqa_accuracy("yes", humans(1)), 0.3, 1e-12);  // 9 subsets × 1/3, /10
  EXPECT_NEAR(vqa_accuracy("yes", humans(2)), 0.6, 1e-12);  // (2·1/3 + 8·2/3)/10
  EXPECT_NEAR(vqa_accuracy("yes", humans(3)), 0.9, 1e-12);  // (3·2/3 + 7·1)/10
  EXPECT_DOUBLE_EQ(vqa_accuracy("yes", humans(4)), 1.0);
  EXPECT_NEAR(vqa_accuracy("Two", humans(3, "2")), 0.9, 1e-12);  // both sides normalised
  EXPECT_NEAR(vqa_accuracy("yes.", humans(2, "Yes")), 0.6, 1e-12);
}

TEST(EvalVqaAccuracy, FewAnswersAndSingleAnswer) {
  EXPECT_NEAR(vqa_accuracy("cat", {"cat", "cat", "dog", "bird", "fish"}), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(vqa_accuracy("table \n", {"table"}), 1.0);  // one answer: exact match of stripped strings
  EXPECT_DOUBLE_EQ(vqa_accuracy("Table", {"table"}), 0.0);      // ... case-sensitive
  EXPECT_DOUBLE_EQ(vqa_accuracy("The table", {"table"}), 0.0);  // ... without normalisation
  EXPECT_DOUBLE_EQ(vqa_accuracy("chair", {"table"}), 0.0);
  EXPECT_THROW(vqa_accuracy("yes", std::vector<std::string>{}), DataError);
}

// vqaEval.py normalises only when the human answers are not all identical; a unanimous
// question is an exact, case-sensitive match of the stripped strings.
TEST(EvalVqaAccuracy, UnanimousAnswersAreAnExactMatch) {
  const std::vector<std::string> unanimous(10, "2");
  EXPECT_DOUBLE_EQ(vqa_accuracy("2", unanimous), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("two", unanimous), 0.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy(" 2\n", unanimous), 1.0);  // whitespace is always stripped
  EXPECT_DOUBLE_EQ(vqa_accuracy("Yes", std::vector<std::string>(10, "yes")), 0.0);  // no lower-casing
  EXPECT_DOUBLE_EQ(vqa_accuracy("yes", std::vector<std::string>(10, "Yes")), 0.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("yes.", std::vector<std::string>(10, "yes")), 0.0);
  auto split = unanimous;
  split[0] = "3";  // the humans disagree: both sides are normalised
  EXPECT_DOUBLE_EQ(vqa_accuracy("two", split), 1.0);
  EXPECT_FALSE(prepare_human_answers(unanimous).normalized);
  EXPECT_TRUE(prepare_human_answers(split).normalized);
}

// The official script itself (tools/dev/golden/make_vqa_official_scores.py ran GT-Vision-Lab/VQA's
// vqaEval.py on 1500 random questions; about a third unanimous, in several spellings) gives
// every question the accuracy vlmt gives it.
TEST(EvalVqaAccuracy, EqualsTheOfficialScriptOnRandomQuestions) {
  std::ifstream in(std::string(VLMT_TEST_DATA) + "/vqa_official_scores.jsonl");
  ASSERT_TRUE(in.good());
  int64_t n = 0, unanimous = 0;
  for (std::string line; std::getline(in, line);) {
    const auto q = nlohmann::json::parse(line);
    const auto answers = q.at("answers").get<std::vector<std::string>>();
    const auto prediction = q.at("prediction").get<std::string>();
    EXPECT_NEAR(vqa_accuracy(prediction, answers), q.at("accuracy").get<double>(), 1e-9)
        << "prediction '" << prediction << "' against " << q.at("answers").dump();
    unanimous += !prepare_human_answers(answers).normalized;
    ++n;
  }
  EXPECT_EQ(n, 1500);
  EXPECT_GT(unanimous, 400);
}

}  // namespace
}  // namespace vlmt

// Multi-task visual grounding consistency (equation 5) with hand-computed overlaps.
#include <gtest/gtest.h>

#include "eval/mt_vgc.h"

namespace vlmt {
namespace {

TEST(EvalMtVgc, ConceptsFromLexiconStopWordsAndFallback) {
  EXPECT_EQ(visual_concepts("What color is the dog?"), (std::set<std::string>{"dog"}));
  EXPECT_EQ(visual_concepts("How many cats are there?"), (std::set<std::string>{"cat"}));
  EXPECT_EQ(visual_concepts("Two dogs' bowls"), (std::set<std::string>{"dog", "bowl"}));
  EXPECT_EQ(visual_concepts("boxes and glasses"), (std::set<std::string>{"box", "glasses"}));
  EXPECT_EQ(visual_concepts("the zebra grazes", true), (std::set<std::string>{"zebra", "graze"}));
  EXPECT_EQ(visual_concepts("the zebra grazes", false), (std::set<std::string>{"zebra"}));
  EXPECT_EQ(shared_concepts("Is the red car parked?", "red car"), 2);
}

TEST(EvalMtVgc, WeightedConsistency) {
  const std::vector<GroundingItem> questions = {
      {"A", "What color is the dog?", true},   // {dog}
      {"A", "How many cats are there?", false},// {cat}
      {"B", "Is the red car parked?", true},   // {red, car, parked}
      {"C", "Is it sunny?", true}};            // image without expressions: ignored
  const std::vector<GroundingItem> expressions = {
      {"A", "brown dog on left", true},        // {brown, dog, left}
      {"A", "cat on the couch", true},         // {cat, couch}
      {"B", "red car", false}};                // {red, car}
  // d: (q1,r1)=1 right&right, (q1,r2)=0, (q2,r1)=0, (q2,r2)=1 q wrong, (q3,r3)=2 r wrong.
  const MtVgcResult r = mt_vgc(questions, expressions);
  EXPECT_EQ(r.images, 2);
  EXPECT_EQ(r.pairs, 5);
  EXPECT_DOUBLE_EQ(r.total_weight, 4.0);
  EXPECT_DOUBLE_EQ(r.score, 25.0);
  EXPECT_DOUBLE_EQ(mt_vgc({}, expressions).score, 0.0);
}

TEST(EvalMtVgc, VqaRightMeansThreeHumans) {
  EXPECT_TRUE(vqa_answer_right(0.9));
  EXPECT_TRUE(vqa_answer_right(1.0));
  EXPECT_FALSE(vqa_answer_right(0.6));
}

}  // namespace
}  // namespace vlmt

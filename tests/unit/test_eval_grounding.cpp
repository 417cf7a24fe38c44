// IoU, referring-expression accuracy and argmax accuracies with hand-computed values.
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/grounding_accuracy.h"

namespace vlmt {
namespace {

TEST(EvalGrounding, IoU) {
  const Box a{0, 0, 10, 10};
  EXPECT_NEAR(box_iou(a, {5, 0, 15, 10}), 50.0 / 150.0, 1e-12);
  EXPECT_DOUBLE_EQ(box_iou(a, {0, 0, 10, 5}), 0.5);
  EXPECT_DOUBLE_EQ(box_iou(a, {20, 20, 30, 30}), 0.0);
  EXPECT_DOUBLE_EQ(box_iou(a, a), 1.0);
  EXPECT_DOUBLE_EQ(box_iou({1, 1, 1, 1}, {1, 1, 1, 1}), 0.0);
  EXPECT_THROW(box_iou({10, 0, 0, 10}, a), DataError);
}

TEST(EvalGrounding, ReferringNeedsIoUAboveHalf) {
  const Box gt{0, 0, 10, 10};
  EXPECT_FALSE(referring_hit({0, 0, 10, 5}, gt));  // exactly 0.5 is a miss
  EXPECT_TRUE(referring_hit({1, 0, 10, 10}, gt));  // 0.9
  EXPECT_NEAR(referring_accuracy({{0, 0, 10, 5}, {1, 0, 10, 10}, {5, 0, 15, 10}}, {gt, gt, gt}),
              100.0 / 3.0, 1e-9);
  EXPECT_THROW(referring_accuracy({gt}, {}), DataError);
}

TEST(EvalGrounding, ChoiceAndClassificationAccuracy) {
  const torch::Tensor scores =
      torch::tensor({0.1f, 0.7f, 0.2f, 0.5f, 0.4f, 0.1f, 0.2f, 0.2f, 0.9f, 0.3f, 0.3f, 0.3f}).view({4, 3});
  const torch::Tensor answers = torch::tensor({1, 1, 2, -1}, torch::kLong);  // last: padding
  const ArgmaxCount c = argmax_correct(scores, answers);
  EXPECT_EQ(c.correct, 2);
  EXPECT_EQ(c.n, 3);
  EXPECT_NEAR(choice_accuracy(scores, answers), 200.0 / 3.0, 1e-9);
  const torch::Tensor logits = torch::tensor({2.0f, -1.0f, 0.0f, 3.0f}).view({2, 2});
  EXPECT_DOUBLE_EQ(classification_accuracy(logits, torch::tensor({0, 0}, torch::kLong)), 50.0);
  EXPECT_THROW(classification_accuracy(logits, torch::tensor({0, 2}, torch::kLong)), DataError);
  EXPECT_THROW(classification_accuracy(logits, torch::tensor({0}, torch::kLong)), DataError);
}

}  // namespace
}  // namespace vlmt

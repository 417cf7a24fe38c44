// Recall@K on small hand-ranked score matrices and distributed row assembly.
#include <gtest/gtest.h>

#include "core/error.h"
#include "distributed/communicator.h"
#include "eval/retrieval_recall.h"

namespace vlmt {
namespace {

// Single rank: all_reduce adds what the "other ranks" contributed (given by the test), which
// is exactly what a sum over ranks does when those ranks ran the same code.
class FakeCommunicator : public Communicator {
 public:
  explicit FakeCommunicator(torch::Tensor others = {}) : others_(std::move(others)) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "fake"; }
  torch::Device device() const override { return torch::kCPU; }
  void all_reduce(torch::Tensor& t, ReduceOp) override {
    ++calls_;
    if (others_.defined()) t.add_(others_);
  }
  void broadcast(torch::Tensor&, int) override {}
  void barrier() override {}
  int calls_ = 0;

 private:
  torch::Tensor others_;
};

TEST(EvalRetrieval, ImageRetrievalRanks) {
  // Every row ranks image j at position j+1; ground truths at ranks 1, 3, 7, 11.
  torch::Tensor scores = -torch::arange(12, torch::kFloat).repeat({4, 1});
  const RecallAtK r = image_retrieval_recall(scores, {0, 2, 6, 10});
  EXPECT_EQ(r.n, 4);
  EXPECT_DOUBLE_EQ(r.r1, 25.0);
  EXPECT_DOUBLE_EQ(r.r5, 50.0);
  EXPECT_DOUBLE_EQ(r.r10, 75.0);
}

TEST(EvalRetrieval, BothDirectionsOnHandMatrix) {
  const torch::Tensor scores = torch::tensor({0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.4f}).view({3, 2});
  const std::vector<int64_t> gt = {0, 0, 1};
  const RecallAtK ir = image_retrieval_recall(scores, gt);  // ranks 2, 1, 1
  EXPECT_NEAR(ir.r1, 200.0 / 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(ir.r5, 100.0);
  // Image 0: captions by score c1, c2, c0 -> best gt rank 1; image 1: c0, c2, c1 -> rank 2.
  const RecallAtK cr = caption_retrieval_recall(scores, gt);
  EXPECT_EQ(cr.n, 2);
  EXPECT_DOUBLE_EQ(cr.r1, 50.0);
  EXPECT_DOUBLE_EQ(cr.r5, 100.0);
}

TEST(EvalRetrieval, TiesGoToLowerIndex) {
  const torch::Tensor scores = torch::tensor({0.2f, 0.2f, 0.1f}).view({1, 3});
  EXPECT_DOUBLE_EQ(image_retrieval_recall(scores, {0}).r1, 100.0);
  EXPECT_DOUBLE_EQ(image_retrieval_recall(scores, {1}).r1, 0.0);
}

TEST(EvalRetrieval, BadInputNamesTheProblem) {
  const torch::Tensor scores = torch::zeros({2, 3});
  EXPECT_THROW(image_retrieval_recall(scores, {0}), DataError);
  EXPECT_THROW(image_retrieval_recall(scores, {0, 3}), DataError);
  EXPECT_THROW(caption_retrieval_recall(torch::zeros({2}), {0, 1}), DataError);
}

TEST(EvalRetrieval, RowRangesCoverAllRows) {
  using Range = std::pair<int64_t, int64_t>;
  EXPECT_EQ(score_rows_of_rank(10, 0, 3), Range(0, 4));
  EXPECT_EQ(score_rows_of_rank(10, 1, 3), Range(4, 7));
  EXPECT_EQ(score_rows_of_rank(10, 2, 3), Range(7, 10));
  EXPECT_EQ(score_rows_of_rank(2, 2, 3), Range(2, 2));
  EXPECT_THROW(score_rows_of_rank(10, 3, 3), ConfigError);
}

TEST(EvalRetrieval, AssemblySumsDisjointBlocks) {
  const torch::Tensor full = torch::rand({5, 4});
  const auto [b0, e0] = score_rows_of_rank(5, 0, 2);
  const auto [b1, e1] = score_rows_of_rank(5, 1, 2);
  // What rank 1 contributes: its rows in a zero matrix.
  FakeCommunicator alone;
  const torch::Tensor from_rank1 = assemble_score_matrix(alone, full.slice(0, b1, e1), b1, 5);
  EXPECT_EQ(alone.calls_, 1);
  EXPECT_TRUE(torch::equal(from_rank1.slice(0, 0, e0), torch::zeros({e0, 4})));
  FakeCommunicator with_rank1(from_rank1);
  const torch::Tensor assembled = assemble_score_matrix(with_rank1, full.slice(0, b0, e0), b0, 5);
  EXPECT_TRUE(torch::equal(assembled, full));
  EXPECT_THROW(assemble_score_matrix(alone, full, 1, 5), DataError);
}

}  // namespace
}  // namespace vlmt

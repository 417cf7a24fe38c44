// The fused CPU dropout (model/dropout.h): the released rule (keep with 1 − p, scale by
// 1/(1 − p)), its gradient, and reproducibility from LibTorch's generator.
#include <gtest/gtest.h>

#include "model/dropout.h"

namespace vlmt {
namespace {

// The tests below exercise the fused kernel whatever the process default is.
class Dropout : public ::testing::Test {
 protected:
  void SetUp() override { set_dropout_kernel(DropoutKernel::kFused); }
  void TearDown() override { set_dropout_kernel(DropoutKernel::kTorch); }
};

TEST_F(Dropout, KeepsOneMinusPAndScalesTheKeptElements) {
  torch::manual_seed(1);
  const auto x = torch::rand({1000, 1000}) + 0.5;  // no zeros: a zero output means dropped
  const auto y = vlmt::dropout(x, 0.1, /*training=*/true);
  const auto kept = y.ne(0);
  EXPECT_NEAR(kept.to(torch::kDouble).mean().item<double>(), 0.9, 0.002);
  EXPECT_TRUE(torch::allclose(y.masked_select(kept), x.masked_select(kept) / 0.9, 1e-6, 0));
  // Kept elements are not clustered: every row keeps about 90 %.
  const auto per_row = kept.to(torch::kDouble).mean(1);
  EXPECT_GT(per_row.min().item<double>(), 0.85);
  EXPECT_LT(per_row.max().item<double>(), 0.95);
}

TEST_F(Dropout, GradientIsTheSameMaskAndScale) {
  torch::manual_seed(2);
  const auto x = (torch::rand({64, 33}) + 0.5).requires_grad_();
  const auto y = vlmt::dropout(x, 0.3, true);
  const auto g = torch::randn({64, 33});
  (y * g).sum().backward();
  const auto expected = g * y.detach().ne(0).to(torch::kFloat) / 0.7;
  EXPECT_TRUE(torch::allclose(x.grad(), expected, 1e-6, 1e-7));
}

TEST_F(Dropout, ReproducibleFromTheSeedAndIndependentOfThreads) {
  const auto x = torch::ones({257, 129});
  const int threads = at::get_num_threads();
  torch::manual_seed(7);
  at::set_num_threads(1);
  const auto a = vlmt::dropout(x, 0.1, true), b = vlmt::dropout(x, 0.1, true);
  torch::manual_seed(7);
  at::set_num_threads(2);
  const auto c = vlmt::dropout(x, 0.1, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(a.equal(c)) << "same seed, other thread count";
  EXPECT_FALSE(a.equal(b)) << "consecutive calls draw new masks";
}

TEST_F(Dropout, IdentityOutsideTrainingAndTheTorchKernelOnRequest) {
  const auto x = torch::rand({8, 8});
  EXPECT_TRUE(vlmt::dropout(x, 0.1, false).is_same(x));
  EXPECT_TRUE(vlmt::dropout(x, 0.0, true).is_same(x));
  set_dropout_kernel(DropoutKernel::kTorch);
  torch::manual_seed(3);
  const auto ours = vlmt::dropout(x, 0.25, true);
  set_dropout_kernel(DropoutKernel::kFused);
  torch::manual_seed(3);
  EXPECT_TRUE(ours.equal(torch::dropout(x, 0.25, true)));
  const auto bf16 = vlmt::dropout(torch::ones({100, 100}, torch::kBFloat16), 0.5, true);
  EXPECT_EQ(bf16.scalar_type(), torch::kBFloat16);
  EXPECT_NEAR(bf16.ne(0).to(torch::kDouble).mean().item<double>(), 0.5, 0.03);
  EXPECT_EQ(bf16.max().item<float>(), 2.0f);
}

}  // namespace
}  // namespace vlmt

// Data parallelism over 2 real ranks: training with averaged gradients on half batches must give
// the same parameters as one process on the full batch; unlisted parameters are never reduced.
#include <gtest/gtest.h>

#include "distributed/communicator.h"
#include "distributed/grad_sync.h"
#include "mpi_test_env.h"

namespace vlmt {
namespace {

torch::nn::Sequential make_net() {
  torch::manual_seed(7);  // identical initial weights on every rank
  torch::nn::Sequential net(torch::nn::Linear(5, 16), torch::nn::LayerNorm(
                                torch::nn::LayerNormOptions({16})),
                            torch::nn::Functional(torch::tanh), torch::nn::Linear(16, 3));
  net->to(torch::kFloat64);
  return net;
}

std::vector<NamedParameter> named(torch::nn::Module& module) {
  std::vector<NamedParameter> out;
  for (const auto& item : module.named_parameters()) out.push_back({item.key(), item.value()});
  return out;
}

// A fixed batch of 2B samples, the same on every rank.
std::pair<torch::Tensor, torch::Tensor> full_batch(int64_t samples, int step) {
  auto gen = at::detail::createCPUGenerator(1000 + step);
  auto x = at::randn({samples, 5}, gen, torch::kFloat64);
  auto y = at::randn({samples, 3}, gen, torch::kFloat64);
  return {x, y};
}

enum class SyncMode { kOverlapped, kFallback };

// Trains `steps` Adam steps; with `comm` each rank uses its slice of the batch and averages.
void train(torch::nn::Sequential& net, Communicator* comm, SyncMode mode, double bucket_mb,
           int steps, int64_t per_rank) {
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-2));
  std::unique_ptr<GradientSynchronizer> sync;
  if (comm && mode == SyncMode::kOverlapped) {
    sync = std::make_unique<GradientSynchronizer>(*comm, bucket_mb);
  }
  for (int step = 0; step < steps; ++step) {
    auto [x, y] = full_batch(per_rank * 2, step);
    if (comm) {
      x = x.narrow(0, comm->rank() * per_rank, per_rank);
      y = y.narrow(0, comm->rank() * per_rank, per_rank);
    }
    adam.zero_grad();
    if (sync) sync->begin_step(named(*net));
    auto loss = torch::mse_loss(net->forward(x), y);  // mean over the local batch
    loss.backward();
    if (sync) sync->finish();
    if (comm && mode == SyncMode::kFallback) all_reduce_gradients(named(*net), *comm);
    adam.step();
  }
}

void expect_same_parameters(torch::nn::Module& a, torch::nn::Module& b, double rtol) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) {
    const auto& other = pb[item.key()];
    EXPECT_TRUE(torch::allclose(item.value(), other, rtol, 1e-9))
        << item.key() << " max diff " << (item.value() - other).abs().max().item<double>();
  }
}

TEST(GradSync, TwoHalfBatchesEqualOneFullBatch) {
  auto comm = testing::mpi_communicator();
  ASSERT_EQ(comm->size(), 2);
  const int64_t half = 6;
  auto reference = make_net();
  train(reference, nullptr, SyncMode::kFallback, 25.0, 4, half);
  for (SyncMode mode : {SyncMode::kOverlapped, SyncMode::kFallback}) {
    auto net = make_net();
    train(net, comm.get(), mode, 25.0, 4, half);
    expect_same_parameters(*net, *reference, 1e-5);
    // Training really moved the weights (the comparison is not between initial values).
    auto initial = make_net();
    EXPECT_FALSE(torch::allclose(net[0]->named_parameters()["weight"],
                                 initial[0]->named_parameters()["weight"]));
  }
}

TEST(GradSync, TinyBucketsMatchFallbackAndOverlapBackward) {
  auto comm = testing::mpi_communicator();
  const int64_t half = 4;
  auto bucketed = make_net();
  auto plain = make_net();
  // 200 bytes: most parameters get a bucket of their own.
  GradientSynchronizer sync(*comm, 200.0 / (1024 * 1024));
  for (int step = 0; step < 2; ++step) {
    auto [x, y] = full_batch(half * 2, step);
    x = x.narrow(0, comm->rank() * half, half);
    y = y.narrow(0, comm->rank() * half, half);
    sync.begin_step(named(*bucketed));
    torch::mse_loss(bucketed->forward(x), y).backward();
    sync.finish();
    EXPECT_GT(sync.num_buckets(), 3);
    EXPECT_GT(sync.buckets_reduced_in_backward(), 0) << "no bucket reduced during backward";

    plain->zero_grad();
    torch::mse_loss(plain->forward(x), y).backward();
    all_reduce_gradients(named(*plain), *comm);
    for (const auto& item : bucketed->named_parameters()) {
      const auto& other = plain->named_parameters()[item.key()];
      EXPECT_TRUE(torch::allclose(item.value().grad(), other.grad(), 1e-12, 1e-14)) << item.key();
    }
    bucketed->zero_grad();
  }
}

TEST(GradSync, UnlistedParametersStayLocalAndMissingGradientsDoNotHang) {
  auto comm = testing::mpi_communicator();
  const int r = comm->rank();
  auto trunk = torch::tensor({1.0, 2.0}, torch::kFloat64).requires_grad_();
  auto head_a = torch::tensor({3.0}, torch::kFloat64).requires_grad_();
  auto head_b = torch::tensor({5.0}, torch::kFloat64).requires_grad_();  // other task: unlisted
  auto only_rank1 = torch::tensor({1.0}, torch::kFloat64).requires_grad_();
  auto unused = torch::tensor({1.0}, torch::kFloat64).requires_grad_();
  GradientSynchronizer sync(*comm, 1e-5);
  sync.begin_step({{"trunk", trunk}, {"head_a", head_a}, {"only_rank1", only_rank1},
                   {"unused", unused}});
  const double scale = r + 1.0;  // rank-dependent gradients
  auto loss = scale * (trunk.sum() * head_a.sum() + head_b.sum());
  if (r == 1) loss = loss + 4.0 * only_rank1.sum();
  loss.backward();
  sync.finish();
  const double mean_scale = (1.0 + 2.0) / 2.0;
  EXPECT_TRUE(torch::allclose(trunk.grad(), torch::full({2}, 3.0 * mean_scale, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(head_a.grad(), torch::full({1}, 3.0 * mean_scale, torch::kFloat64)));
  EXPECT_DOUBLE_EQ(head_b.grad().item<double>(), scale) << "unlisted parameter was reduced";
  EXPECT_DOUBLE_EQ(only_rank1.grad().item<double>(), 2.0) << "missing gradient must count as 0";
  EXPECT_FALSE(unused.grad().defined()) << "no rank produced a gradient: .grad stays undefined";
  comm->barrier();
}

TEST(GradSync, AccumulatesSeveralBackwardPasses) {
  auto comm = testing::mpi_communicator();
  auto w = torch::tensor({1.0, -1.0}, torch::kFloat64).requires_grad_();
  GradientSynchronizer sync(*comm);
  sync.begin_step({{"w", w}}, 2);
  (w * (comm->rank() + 1.0)).sum().backward();
  (w * 10.0).sum().backward();
  sync.finish();
  // Per rank: (r+1) + 10; averaged over ranks 1 and 2: 1.5 + 10.
  EXPECT_TRUE(torch::allclose(w.grad(), torch::full({2}, 11.5, torch::kFloat64)));
  sync.begin_step({{"w", w}}, 1);
  (w * 2.0).sum().backward();
  EXPECT_THROW((w * 2.0).sum().backward(), std::exception);  // one pass more than announced
  sync.finish();
}

}  // namespace
}  // namespace vlmt

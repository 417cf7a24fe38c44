// Single-process parts of src/distributed: the local communicator, the gradient synchroniser at size 1,
// deadlines and stop signals. (Multi-rank behaviour is tested in tests/mpi under mpirun -n 2.)
#include <gtest/gtest.h>

#include <csignal>

#include "core/error.h"
#include "distributed/grad_sync.h"
#include "distributed/local_communicator.h"
#include "distributed/stop_signal.h"

namespace vlmt {
namespace {

TEST(DistLocal, CollectivesAreIdentity) {
  LocalCommunicator comm;
  EXPECT_EQ(comm.size(), 1);
  auto t = torch::tensor({1.5, -2.0}, torch::kFloat64);
  comm.all_reduce(t, ReduceOp::kMax);
  EXPECT_TRUE(torch::equal(t, torch::tensor({1.5, -2.0}, torch::kFloat64)));
  EXPECT_DOUBLE_EQ(comm.all_reduce_scalar(4.25), 4.25);
  EXPECT_EQ(comm.all_reduce_vector({1, 2, 3}), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(comm.broadcast_string("abc", 0), "abc");
  EXPECT_THROW(comm.broadcast(t, 1), Error);
}

TEST(DistLocal, SynchroniserAtSizeOneKeepsGradients) {
  LocalCommunicator comm;
  torch::manual_seed(3);
  torch::nn::Linear a(4, 6), b(6, 2);
  auto x = torch::randn({5, 4});
  std::vector<NamedParameter> params;
  for (auto& m : {a.ptr(), b.ptr()}) {
    for (const auto& p : m->named_parameters()) params.push_back({p.key(), p.value()});
  }
  // Reference gradients without synchroniser.
  b(torch::relu(a(x))).pow(2).mean().backward();
  std::vector<torch::Tensor> expected;
  for (auto& p : params) expected.push_back(p.tensor.grad().clone());

  GradientSynchronizer sync(comm, 40.0 / (1024 * 1024));  // 40 bytes: one bucket per tensor
  for (auto& p : params) p.tensor.mutable_grad() = torch::full_like(p.tensor, 99.0);  // stale
  sync.begin_step(params);
  b(torch::relu(a(x))).pow(2).mean().backward();
  sync.finish();
  EXPECT_EQ(sync.num_buckets(), 4);
  EXPECT_EQ(sync.buckets_reduced_in_backward(), 4);
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(params[i].tensor.grad(), expected[i])) << params[i].name;
  }
}

// The bucket layout of a parameter list is built once; .grad becomes a view of the averaged
// buffer (no copy back), and a caller that keeps last step's .grad still gets this step's average.
TEST(DistLocal, SynchroniserReusesItsLayoutAndHandsOutViews) {
  LocalCommunicator comm;
  torch::manual_seed(3);
  torch::nn::Linear a(4, 6), b(6, 2);
  auto x = torch::randn({5, 4});
  std::vector<NamedParameter> both, first;
  for (const auto& p : a->named_parameters()) both.push_back({"a." + p.key(), p.value()}), first.push_back(both.back());
  for (const auto& p : b->named_parameters()) both.push_back({"b." + p.key(), p.value()});
  auto loss = [&] { return b(torch::relu(a(x))).pow(2).mean(); };
  loss().backward();
  std::vector<torch::Tensor> expected;
  for (auto& p : both) expected.push_back(p.tensor.grad().clone());
  GradientSynchronizer sync(comm);
  for (int step = 0; step < 3; ++step) {
    for (auto& p : both) p.tensor.mutable_grad().reset();
    sync.begin_step(both);
    loss().backward();
    sync.finish();
    for (size_t i = 0; i < both.size(); ++i) EXPECT_TRUE(torch::allclose(both[i].tensor.grad(), expected[i])) << both[i].name;
  }
  EXPECT_EQ(sync.num_layouts(), 1);
  EXPECT_EQ(sync.num_buckets(), 1);
  EXPECT_TRUE(a->weight.grad().storage().is_alias_of(b->weight.grad().storage())) << "not views of one buffer";
  // .grad kept from the step before (no zeroing): replaced by this step's average, not added to.
  sync.begin_step(both);
  loss().backward();
  sync.finish();
  for (size_t i = 0; i < both.size(); ++i) EXPECT_TRUE(torch::allclose(both[i].tensor.grad(), expected[i])) << both[i].name;
  // Another list (another task's head): a second layout; the unlisted parameters stay local.
  for (auto& p : both) p.tensor.mutable_grad().reset();
  sync.begin_step(first);
  loss().backward();
  sync.finish();
  EXPECT_EQ(sync.num_layouts(), 2);
  EXPECT_TRUE(torch::allclose(a->weight.grad(), expected[0]));
  EXPECT_TRUE(torch::allclose(b->weight.grad(), expected[2]));
  EXPECT_FALSE(b->weight.grad().storage().is_alias_of(a->weight.grad().storage()));
}

TEST(DistLocal, SynchroniserRejectsBadParameters) {
  LocalCommunicator comm;
  GradientSynchronizer sync(comm);
  auto frozen = torch::zeros({2});
  EXPECT_THROW(sync.begin_step({{"frozen", frozen}}), Error);
  auto w = torch::zeros({2}, torch::requires_grad());
  EXPECT_THROW(sync.begin_step({{"w", w}, {"w_again", w}}), Error);
  EXPECT_THROW(sync.finish(), Error);  // no step in progress
}

TEST(DistLocal, DeadlineAndSignals) {
  EXPECT_FALSE(Deadline().passed());
  EXPECT_FALSE(Deadline(1.0).passed());
  EXPECT_GT(Deadline(1.0).hours_left(), 0.99);
  EXPECT_TRUE(Deadline(1e-12).passed());

  LocalCommunicator comm;
  install_stop_handlers();
  clear_stop_request();
  EXPECT_FALSE(agree_to_stop(comm));
  std::raise(SIGTERM);  // handled: the process keeps running
  EXPECT_EQ(stop_signal(), SIGTERM);
  EXPECT_TRUE(agree_to_stop(comm));
  clear_stop_request();
  EXPECT_FALSE(stop_requested());
}

}  // namespace
}  // namespace vlmt

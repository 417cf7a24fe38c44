// All-reduce, broadcast and string broadcast over real MPI ranks, for every supported dtype.
#include <gtest/gtest.h>

#include "core/error.h"
#include "distributed/communicator.h"
#include "distributed/mpi_communicator.h"
#include "mpi_test_env.h"

namespace vlmt {
namespace {

class CollectivesByDtype : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(CollectivesByDtype, AllReduceSumMaxMin) {
  auto comm = testing::mpi_communicator();
  const int r = comm->rank();
  const int n = comm->size();
  ASSERT_GE(n, 2) << "run under mpirun -n 2";
  // Rank r holds [r+1, 2(r+1), ..., 5(r+1)] (and a large tensor to cross chunk-free paths).
  auto base = torch::arange(1, 6, torch::kInt64);
  auto make = [&] { return (base * (r + 1)).to(GetParam()); };
  const int64_t rank_sum = static_cast<int64_t>(n) * (n + 1) / 2;

  auto sum = make();
  comm->all_reduce(sum, ReduceOp::kSum);
  EXPECT_TRUE(torch::equal(sum, (base * rank_sum).to(GetParam())));
  auto max = make();
  comm->all_reduce(max, ReduceOp::kMax);
  EXPECT_TRUE(torch::equal(max, (base * n).to(GetParam())));
  auto min = make();
  comm->all_reduce(min, ReduceOp::kMin);
  EXPECT_TRUE(torch::equal(min, base.to(GetParam())));
}

TEST_P(CollectivesByDtype, BroadcastFromEachRoot) {
  auto comm = testing::mpi_communicator();
  for (int root = 0; root < comm->size(); ++root) {
    auto t = torch::full({3, 4}, comm->rank() * 10 + 7, torch::kInt64).to(GetParam());
    comm->broadcast(t, root);
    EXPECT_TRUE(torch::equal(t, torch::full({3, 4}, root * 10 + 7, torch::kInt64).to(GetParam())))
        << "root " << root;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, CollectivesByDtype,
                         ::testing::Values(torch::kFloat32, torch::kFloat64, torch::kInt64,
                                           torch::kInt32, torch::kUInt8));

TEST(Collectives, FloatSumIsExactForRepresentableValues) {
  auto comm = testing::mpi_communicator();
  auto t = torch::full({1000}, 0.5 + comm->rank(), torch::kFloat64);
  comm->all_reduce(t, ReduceOp::kSum);
  const double expected = 0.5 * comm->size() + comm->size() * (comm->size() - 1) / 2.0;
  EXPECT_TRUE(torch::allclose(t, torch::full({1000}, expected, torch::kFloat64), 0, 0));
}

TEST(Collectives, ScalarVectorAndStringHelpers) {
  auto comm = testing::mpi_communicator();
  const int r = comm->rank();
  EXPECT_DOUBLE_EQ(comm->all_reduce_scalar(r + 1.0, ReduceOp::kMax), comm->size());
  const auto v = comm->all_reduce_vector({1.0, static_cast<double>(r)}, ReduceOp::kSum);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_DOUBLE_EQ(v[0], comm->size());
  EXPECT_DOUBLE_EQ(v[1], comm->size() * (comm->size() - 1) / 2.0);

  const std::string sent = r == 1 ? std::string("config = \"rank one\"\n\0tail", 25) : "ignored";
  const std::string got = comm->broadcast_string(sent, 1);
  EXPECT_EQ(got, std::string("config = \"rank one\"\n\0tail", 25));
  EXPECT_EQ(comm->broadcast_string(r == 0 ? "" : "not root", 0), "");
}

TEST(Collectives, RejectsWrongInputsWithoutHanging) {
  auto comm = testing::mpi_communicator();
  auto strided = torch::zeros({4, 4}, torch::kFloat32).t();
  EXPECT_THROW(comm->all_reduce(strided, ReduceOp::kSum), Error);
  auto half = torch::zeros({4}, torch::kFloat16);
  EXPECT_THROW(comm->all_reduce(half, ReduceOp::kSum), Error);
  auto t = torch::zeros({1});
  EXPECT_THROW(comm->broadcast(t, comm->size()), Error);
  comm->barrier();  // all ranks are still in step
}

TEST(Collectives, FactoryChoosesBackends) {
  auto& rt = testing::runtime();
  EXPECT_EQ(make_communicator("auto", rt, torch::kCPU)->backend(), "mpi");
  EXPECT_THROW(make_communicator("local", rt, torch::kCPU), ConfigError);
  EXPECT_THROW(make_communicator("gloo", rt, torch::kCPU), ConfigError);
  EXPECT_THROW(make_communicator("nccl", rt, torch::kCPU), ConfigError);
}

TEST(Runtime, RanksAndLocalRanks) {
  auto& rt = testing::runtime();
  EXPECT_EQ(rt.size(), 2);
  EXPECT_GE(rt.rank(), 0);
  // mpirun -n 2 on one host: both ranks on one node.
  EXPECT_EQ(rt.local_size(), rt.size());
  EXPECT_EQ(rt.local_rank(), rt.rank());
  EXPECT_EQ(DistRuntime::model_seed(42), 42);  // the same on every rank
  EXPECT_EQ(DistRuntime::dropout_seed(42, rt.rank()), 42 * 7919 + 17 + rt.rank());  // one per rank
  EXPECT_EQ(DistRuntime::validation_seed(42, rt.rank()), 42u * 31 + rt.rank());
  EXPECT_TRUE(rt.select_device(DeviceRequest::kCpu, "test").is_cpu());
  int code = 3 + rt.rank();  // each rank proposes a code; all agree on the largest
  ASSERT_TRUE(rt.agree_on_exit_code(code, 60.0));
  EXPECT_EQ(code, 3 + rt.size() - 1);
}

}  // namespace
}  // namespace vlmt

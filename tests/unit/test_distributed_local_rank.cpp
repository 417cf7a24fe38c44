// Local-rank and GPU selection rules (distributed/local_rank.h), driven by fake environments: the
// launcher's value wins, the MPI shared-memory rank is the fallback, and a node with more ranks
// than GPUs is an error instead of two ranks silently sharing a GPU.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "distributed/local_rank.h"

namespace vlmt {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DistLocalRank, SrunLocalIdWinsWhenProcIdIsThisRank) {
  auto env = fake_env({{"SLURM_PROCID", "5"}, {"SLURM_LOCALID", "1"},
                       {"OMPI_COMM_WORLD_LOCAL_RANK", "3"}});
  const LocalRank local = resolve_local_rank(env, 5, 0);
  EXPECT_EQ(local.value, 1);
  EXPECT_EQ(local.source, "SLURM_LOCALID");
}

TEST(DistLocalRank, MpirunInsideAnAllocationIgnoresTheBatchStepsSlurmValues) {
  // The batch step's SLURM_PROCID=0 is inherited by every rank that mpirun starts.
  auto env = fake_env({{"SLURM_PROCID", "0"}, {"SLURM_LOCALID", "0"},
                       {"OMPI_COMM_WORLD_LOCAL_RANK", "2"}});
  const LocalRank local = resolve_local_rank(env, 6, 1);
  EXPECT_EQ(local.value, 2);
  EXPECT_EQ(local.source, "OMPI_COMM_WORLD_LOCAL_RANK");
}

TEST(DistLocalRank, SharedCommunicatorIsTheFallback) {
  const LocalRank local = resolve_local_rank(fake_env({}), 9, 3);
  EXPECT_EQ(local.value, 3);
  EXPECT_EQ(local.source, "MPI_COMM_TYPE_SHARED");
  // SLURM_PROCID of another rank and an empty Open MPI variable give no launcher value either.
  auto stale = fake_env({{"SLURM_PROCID", "0"}, {"SLURM_LOCALID", "0"},
                         {"OMPI_COMM_WORLD_LOCAL_RANK", ""}});
  EXPECT_EQ(resolve_local_rank(stale, 9, 3).source, "MPI_COMM_TYPE_SHARED");
}

TEST(DistLocalRank, MalformedVariableIsAnErrorNamingIt) {
  auto env = fake_env({{"OMPI_COMM_WORLD_LOCAL_RANK", "two"}});
  try {
    resolve_local_rank(env, 0, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("OMPI_COMM_WORLD_LOCAL_RANK"), std::string::npos);
  }
  EXPECT_THROW(resolve_local_rank(fake_env({{"SLURM_PROCID", "-1"}}), 0, 0), Error);
}

TEST(DistLocalRank, DeviceIsTheLocalRankNotRankModuloGpus) {
  EXPECT_EQ(cuda_device_for_local_rank(0, 4, 4, std::nullopt), 0);
  EXPECT_EQ(cuda_device_for_local_rank(3, 4, 4, std::nullopt), 3);
  EXPECT_EQ(cuda_device_for_local_rank(1, 2, 8, std::string("0,1,2,3,4,5,6,7")), 1);
}

TEST(DistLocalRank, MoreLocalRanksThanGpusIsAnError) {
  try {
    cuda_device_for_local_rank(1, 3, 2, std::nullopt);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("3 ranks on this node but only 2 visible GPU"), std::string::npos);
  }
  EXPECT_THROW(cuda_device_for_local_rank(4, 2, 2, std::nullopt), Error);  // bad launcher value
  EXPECT_THROW(cuda_device_for_local_rank(0, 1, 0, std::nullopt), Error);
}

TEST(DistLocalRank, OneGpuBoundPerTaskUsesDeviceZero) {
  // srun --gpus-per-task=1: each rank sees exactly its own GPU as device 0.
  EXPECT_EQ(cuda_device_for_local_rank(3, 4, 1, std::string("3")), 0);
  // One visible device without a binding is shared by nobody: 2 ranks cannot use it.
  EXPECT_THROW(cuda_device_for_local_rank(1, 2, 1, std::nullopt), Error);
}

}  // namespace
}  // namespace vlmt

#include "distributed/local_rank.h"

#include "core/env.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

// The value of `name` as a non-negative integer, nullopt when unset or empty.
std::optional<int> env_index(const EnvLookup& env, const std::string& name) {
  const auto value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return static_cast<int>(env::parse_integer(name, *value, 0, 1 << 20));
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) { return env::text(name); };
}

LocalRank resolve_local_rank(const EnvLookup& env, int world_rank, int shared_local_rank) {
  if (env_index(env, "SLURM_PROCID") == world_rank) {
    if (const auto slurm = env_index(env, "SLURM_LOCALID")) return {*slurm, "SLURM_LOCALID"};
  }
  if (const auto ompi = env_index(env, "OMPI_COMM_WORLD_LOCAL_RANK"))
    return {*ompi, "OMPI_COMM_WORLD_LOCAL_RANK"};
  return {shared_local_rank, "MPI_COMM_TYPE_SHARED"};
}

int cuda_device_for_local_rank(int local_rank, int local_size, int device_count,
                               const std::optional<std::string>& cuda_visible_devices) {
  if (device_count <= 0) throw Error(ExitCode::kFailure, "CUDA requested but no GPU is visible");
  const bool one_bound_gpu = device_count == 1 && cuda_visible_devices &&
                             !cuda_visible_devices->empty() &&
                             cuda_visible_devices->find(',') == std::string::npos;
  if (one_bound_gpu) return 0;
  if (local_size > device_count || local_rank >= device_count)
    throw Error(ExitCode::kFailure,
                cat(local_size, " ranks on this node but only ", device_count,
                    " visible GPU(s) (local rank ", local_rank,
                    "): start one rank per GPU (srun --ntasks-per-node=<GPUs>, or "
                    "mpirun --map-by ppr:<GPUs>:node)"));
  return local_rank;
}

}  // namespace vlmt

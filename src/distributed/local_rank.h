#pragma once
// Which GPU a rank drives. One rank per GPU: the device index is the node-local rank that the
// launcher assigned (Slurm's SLURM_LOCALID under srun, Open MPI's OMPI_COMM_WORLD_LOCAL_RANK
// under mpirun), with MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) as the fallback when neither
// launcher says. Never `rank % ngpus`: with uneven ranks per node that puts two ranks on one GPU.
// Pure functions of their arguments, so the rules are unit-tested without MPI or GPUs.
#include <functional>
#include <optional>
#include <string>

namespace vlmt {

// Reads an environment variable; std::nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

struct LocalRank {
  int value = 0;
  std::string source;  // "SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK" or "MPI_COMM_TYPE_SHARED"
};

// `world_rank` is this process's MPI rank, `shared_local_rank` its rank in the node's
// MPI_COMM_TYPE_SHARED communicator. SLURM_LOCALID counts only when SLURM_PROCID equals the MPI
// rank (srun started this process; an mpirun inside an allocation inherits the batch step's
// Slurm variables). A variable that is set but not a non-negative integer is an Error naming it.
LocalRank resolve_local_rank(const EnvLookup& env, int world_rank, int shared_local_rank);

// The CUDA device index for `local_rank` of `local_size` ranks on a node with `device_count`
// visible devices. When the launcher binds one GPU per task (CUDA_VISIBLE_DEVICES names a single
// device, e.g. srun --gpus-per-task=1) every rank uses device 0. Otherwise local_size must not
// exceed device_count: an Error says how many ranks and GPUs there are.
int cuda_device_for_local_rank(int local_rank, int local_size, int device_count,
                               const std::optional<std::string>& cuda_visible_devices);

}  // namespace vlmt

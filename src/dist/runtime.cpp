#include "dist/runtime.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "core/error.h"
#include "dist/mpi_check.h"
#include "core/log.h"

namespace vlmt {
namespace {

// An integer environment variable, or -1 when unset or not a number.
int env_int(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return -1;
  char* end = nullptr;
  const long parsed = std::strtol(value, &end, 10);
  return *end == '\0' ? static_cast<int>(parsed) : -1;
}

double abort_grace_seconds() {
  const char* value = std::getenv("VLMT_ABORT_GRACE_S");
  return value != nullptr ? std::atof(value) : 10.0;
}

}  // namespace

DistRuntime::DistRuntime(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    // MULTIPLE if the library has it (NCCL/autograd threads never call MPI, but the gradient
    // synchroniser may launch MPI reductions from a hook); FUNNELED is the minimum.
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_), "MPI_Init_thread");
    owns_mpi_ = true;
  } else {
    MPI_Query_thread(&thread_level_);
  }
  if (thread_level_ < MPI_THREAD_FUNNELED) {
    throw Error(ExitCode::kFailure, "MPI provides only MPI_THREAD_SINGLE; vlmt needs FUNNELED");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  log::set_rank(rank_, size_);
  find_local_rank();
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &exit_comm_), "MPI_Comm_dup");
}

DistRuntime::~DistRuntime() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (finalised) return;
  if (exit_comm_ != MPI_COMM_NULL) MPI_Comm_free(&exit_comm_);
  if (owns_mpi_) MPI_Finalize();
}

void DistRuntime::find_local_rank() {
  // Ranks sharing memory are on one node: the same answer under mpirun, srun and singleton.
  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);

  // Cross-check with the launcher. SLURM_LOCALID is only trusted when SLURM_PROCID is this rank
  // (srun launched us), because an mpirun inside an allocation inherits the batch step's values.
  int launcher_local = env_int("OMPI_COMM_WORLD_LOCAL_RANK");
  const char* source = "OMPI_COMM_WORLD_LOCAL_RANK";
  if (launcher_local < 0 && env_int("SLURM_PROCID") == rank_) {
    launcher_local = env_int("SLURM_LOCALID");
    source = "SLURM_LOCALID";
  }
  if (launcher_local >= 0 && launcher_local != local_rank_) {
    log::warn(cat("local rank from MPI_COMM_TYPE_SHARED is ", local_rank_, " but ", source, "=",
                  launcher_local, "; using the MPI value"));
  }
}

torch::Device DistRuntime::select_device(bool want_cuda) const {
  if (want_cuda && torch::cuda::is_available()) {
    const int count = static_cast<int>(torch::cuda::device_count());
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank_ % count));
  }
  return torch::Device(torch::kCPU);
}

void DistRuntime::abort(int code) const {
  log::error(cat("aborting all ranks with exit code ", code));
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort should not return; make sure we do not either
}

bool DistRuntime::agree_on_exit_code(int& code, double grace_seconds) {
  MPI_Request request;
  check_mpi(MPI_Ibarrier(exit_comm_, &request), "MPI_Ibarrier");
  const auto start = std::chrono::steady_clock::now();
  int done = 0;
  while (true) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) break;
    const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
    if (grace_seconds >= 0 && waited.count() > grace_seconds) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int agreed = code;
  check_mpi(MPI_Allreduce(&code, &agreed, 1, MPI_INT, MPI_MAX, exit_comm_), "MPI_Allreduce");
  code = agreed;
  return true;
}

int run_main(int argc, char** argv, const std::function<int(DistRuntime&)>& body) {
  std::unique_ptr<DistRuntime> runtime;
  try {
    runtime = std::make_unique<DistRuntime>(&argc, &argv);
  } catch (const std::exception& e) {
    log::error(e.what());
    return static_cast<int>(ExitCode::kFailure);
  }
  int code = 0;
  bool failed = false;
  try {
    code = body(*runtime);
  } catch (const Error& e) {
    log::error(e.what());
    code = static_cast<int>(e.code());
    failed = true;
  } catch (const std::exception& e) {
    log::error(cat("internal error: ", e.what()));
    code = static_cast<int>(ExitCode::kFailure);
    failed = true;
  }
  // Ranks that succeeded wait as long as it takes (a peer may still be writing a checkpoint);
  // a failed rank gives its peers a grace period, then takes the whole job down.
  const double grace = failed ? abort_grace_seconds() : -1.0;
  if (!runtime->agree_on_exit_code(code, grace)) runtime->abort(code);
  return code;
}

}  // namespace vlmt

#include "dist/runtime.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "core/allocator.h"
#include "core/env.h"
#include "core/error.h"
#include "dist/local_rank.h"
#include "dist/mpi_check.h"
#include "core/log.h"

namespace vlmt {
namespace {

constexpr double kDefaultAbortGraceS = 10.0;

double abort_grace_seconds() { return env::seconds("VLMT_ABORT_GRACE_S", kDefaultAbortGraceS, 0.0, 3600.0); }

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
  // Ranks sharing memory are on one node: the fallback when no launcher names the local rank,
  // and the node's rank count.
  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  int shared_rank = 0;
  MPI_Comm_rank(node, &shared_rank);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
  const LocalRank local = resolve_local_rank(process_env(), rank_, shared_rank);
  local_rank_ = local.value;
  if (local.value != shared_rank || local.value >= local_size_) {
    log::warn(cat("local rank ", local.value, " from ", local.source, " differs from ", shared_rank,
                  " of ", local_size_, " in MPI_COMM_TYPE_SHARED; using ", local.source));
  }
}

torch::Device DistRuntime::select_device(bool want_cuda) const {
  if (!want_cuda || !torch::cuda::is_available()) return torch::Device(torch::kCPU);
  const int count = static_cast<int>(torch::cuda::device_count());
  const int index = cuda_device_for_local_rank(local_rank_, local_size_, count,
                                               process_env()("CUDA_VISIBLE_DEVICES"));
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
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
  } catch (const Error& e) {
    log::error(e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    log::error(e.what());
    return static_cast<int>(ExitCode::kFailure);
  }
  int code = 0;
  bool failed = false;
  // Environment variables are read inside the body's try: a bad value is an error every rank
  // reports with the same code.
  double grace = kDefaultAbortGraceS;
  try {
    keep_freed_memory();
    grace = abort_grace_seconds();
    code = body(*runtime);
  } catch (const Error& e) {
    code = static_cast<int>(e.code());
    failed = code != 0;  // 0: --help or --version, already printed (CliExit)
    if (failed) log::error(e.what());
  } catch (const std::exception& e) {
    log::error(cat("internal error: ", e.what()));
    code = static_cast<int>(ExitCode::kFailure);
    failed = true;
  }
  // Ranks that succeeded wait as long as it takes (a peer may still be writing a checkpoint);
  // a failed rank gives its peers a grace period, then takes the whole job down.
  if (!runtime->agree_on_exit_code(code, failed ? grace : -1.0)) runtime->abort(code);
  return code;
}

}  // namespace vlmt

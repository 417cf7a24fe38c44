#include "distributed/runtime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "core/allocator.h"
#include "core/env.h"
#include "core/error.h"
#include "distributed/cuda_device.h"
#include "distributed/local_rank.h"
#include "distributed/mpi_check.h"
#include "core/log.h"

namespace vlmt {
namespace {

constexpr double kDefaultAbortGraceS = 10.0;

// The exception report_error_now logged last (the object itself: `throw;` rethrows it unchanged).
std::atomic<const std::exception*> reported_error{nullptr};

// The one way a body's failure is logged.
void log_failure(const std::exception& e) {
  if (dynamic_cast<const Error*>(&e) != nullptr) log::error(e.what());
  else log::error(cat("internal error: ", e.what()));
}

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
  if (node_comm_ != MPI_COMM_NULL) MPI_Comm_free(&node_comm_);
  if (owns_mpi_) MPI_Finalize();
}

void DistRuntime::find_local_rank() {
  // Ranks sharing memory are on one node: the fallback when no launcher names the local rank,
  // and the node's rank count; kept for the device check of select_device.
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_comm_),
            "MPI_Comm_split_type");
  int shared_rank = 0;
  MPI_Comm_rank(node_comm_, &shared_rank);
  MPI_Comm_size(node_comm_, &local_size_);
  const LocalRank local = resolve_local_rank(process_env(), rank_, shared_rank);
  local_rank_ = local.value;
  if (local.value != shared_rank || local.value >= local_size_) {
    log::warn(cat("local rank ", local.value, " from ", local.source, " differs from ", shared_rank,
                  " of ", local_size_, " in MPI_COMM_TYPE_SHARED; using ", local.source));
  }
}

torch::Device DistRuntime::select_device(DeviceRequest request, const std::string& asked_by) const {
  CudaProbe probe;
#ifdef VLMT_WITH_CUDA
  probe.vlmt_built_with_cuda = true;
#endif
  probe.libtorch_has_cuda = at::hasCUDA();
  probe.visible_devices = request == DeviceRequest::kCpu ? 0 : static_cast<int>(torch::cuda::device_count());
  probe.cuda_visible_devices = process_env()("CUDA_VISIBLE_DEVICES");
  const DeviceDecision decision = decide_device(request, probe, asked_by);
  if (!decision.note.empty()) log::warn(decision.note);
  torch::Device device(torch::kCPU);
  std::string device_id;  // "" for the CPU
#ifdef VLMT_WITH_CUDA
  if (decision.cuda) {
    const int index = cuda_device_for_local_rank(local_rank_, local_size_, probe.visible_devices,
                                                 probe.cuda_visible_devices);
    use_cuda_device(index);
    device_id = cuda_pci_bus_id(index);
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
#endif
  check_node_devices(device_id);
  if (device.is_cuda()) log::info(cat("device ", device.str(), " (PCI bus id ", device_id, ")"));
  return device;
}

std::function<void()> thread_device_setup(const torch::Device& device) {
#ifdef VLMT_WITH_CUDA
  if (device.is_cuda()) {
    const int index = device.index();
    return [index] { use_cuda_device(index); };
  }
#endif
  (void)device;
  return {};
}

void DistRuntime::check_node_devices(const std::string& my_device_id) const {
  constexpr int kIdBytes = 64;  // a PCI bus id is 13 characters
  if (my_device_id.size() >= kIdBytes)
    throw Error(ExitCode::kFailure, cat("device id \"", my_device_id, "\" is too long"));
  std::vector<char> mine(kIdBytes, '\0'), all(static_cast<size_t>(kIdBytes) * local_size_, '\0');
  std::copy(my_device_id.begin(), my_device_id.end(), mine.begin());
  check_mpi(MPI_Allgather(mine.data(), kIdBytes, MPI_CHAR, all.data(), kIdBytes, MPI_CHAR, node_comm_),
            "MPI_Allgather(device ids)");
  std::vector<std::string> ids;
  for (int r = 0; r < local_size_; ++r) ids.emplace_back(all.data() + static_cast<size_t>(r) * kIdBytes);
  check_distinct_devices(ids);
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
    if (failed && reported_error.load() != &e) log_failure(e);
  } catch (const std::exception& e) {
    if (reported_error.load() != &e) log_failure(e);
    code = static_cast<int>(ExitCode::kFailure);
    failed = true;
  }
  reported_error.store(nullptr);
  // Ranks that succeeded wait as long as it takes (a peer may still be writing a checkpoint);
  // a failed rank gives its peers a grace period, then takes the whole job down.
  if (!runtime->agree_on_exit_code(code, failed ? grace : -1.0)) runtime->abort(code);
  return code;
}

void report_error_now(const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  if (error != nullptr && error->code() == ExitCode::kOk) return;  // --help, --version
  log_failure(e);
  reported_error.store(&e);
}

}  // namespace vlmt

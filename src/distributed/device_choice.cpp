#include "distributed/device_choice.h"

#include <map>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

// Why CUDA cannot be used, or "" when it can.
std::string cuda_missing(const CudaProbe& probe) {
  if (!probe.vlmt_built_with_cuda)
    return "this vlmt was built without -DVLMT_WITH_CUDA=ON (docs/DISTRIBUTED.md)";
  if (!probe.libtorch_has_cuda) return "the LibTorch it was built with has no CUDA support";
  if (probe.visible_devices <= 0)
    return cat("the LibTorch sees no usable GPU (CUDA_VISIBLE_DEVICES=",
               probe.cuda_visible_devices.value_or("<unset>"),
               "; no GPU on this node, or an NVIDIA driver older than the LibTorch's CUDA "
               "needs: `nvidia-smi` shows the driver)");
  return "";
}

}  // namespace

DeviceRequest device_request_named(const std::string& name) {
  if (name == "cpu") return DeviceRequest::kCpu;
  if (name == "cuda") return DeviceRequest::kCuda;
  if (name == "auto") return DeviceRequest::kAuto;
  throw ConfigError(cat("device \"", name, "\" is not one of cpu, cuda, auto"));
}

DeviceRequest device_request_for_backend(const std::string& backend) {
  if (backend == "nccl") return DeviceRequest::kCuda;
  if (backend == "auto") return DeviceRequest::kAuto;
  return DeviceRequest::kCpu;
}

DeviceDecision decide_device(DeviceRequest request, const CudaProbe& probe, const std::string& asked_by) {
  if (request == DeviceRequest::kCpu) return {false, ""};
  const std::string missing = cuda_missing(probe);
  if (missing.empty()) return {true, ""};
  if (request == DeviceRequest::kCuda)
    throw Error(ExitCode::kFailure, cat(asked_by, " needs a CUDA device, but ", missing));
  // kAuto: a CPU-only vlmt on a CPU-only LibTorch is the ordinary CPU case, nothing to say.
  if (!probe.vlmt_built_with_cuda && !probe.libtorch_has_cuda) return {false, ""};
  return {false, cat("running on the CPU: ", missing)};
}

void check_distinct_devices(const std::vector<std::string>& ids) {
  std::map<std::string, std::vector<size_t>> ranks_by_id;
  size_t cpu_ranks = 0;
  for (size_t rank = 0; rank < ids.size(); ++rank) {
    if (ids[rank].empty()) ++cpu_ranks;
    else ranks_by_id[ids[rank]].push_back(rank);
  }
  if (cpu_ranks != 0 && cpu_ranks != ids.size())
    throw Error(ExitCode::kFailure,
                cat(cpu_ranks, " of the ", ids.size(), " ranks on this node see no GPU while the "
                    "others use one: give every rank the same GPU visibility"));
  for (const auto& [id, ranks] : ranks_by_id) {
    if (ranks.size() < 2) continue;
    std::string list;
    for (size_t r : ranks) list += cat(list.empty() ? "" : ", ", r);
    throw Error(ExitCode::kFailure,
                cat("local ranks ", list, " would all drive the GPU at PCI bus id ", id,
                    ": one rank per GPU is needed. Does the launcher give each rank a "
                    "CUDA_VISIBLE_DEVICES naming the same single device? Start one rank per GPU "
                    "(srun --ntasks-per-node=<GPUs> --gpus-per-node=<GPUs>) so that each local "
                    "rank drives cuda:<local rank>"));
  }
}

}  // namespace vlmt

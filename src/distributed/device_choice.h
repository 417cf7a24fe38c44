#pragma once
// Which device a rank computes on, and whether the ranks of a node drive distinct GPUs. Pure
// functions of their arguments (DistRuntime::select_device gathers the inputs), so the rules are
// unit-tested without a GPU.
#include <optional>
#include <string>
#include <vector>

namespace vlmt {

// What the caller asked for: the CPU, CUDA (an Error when it cannot be had), or CUDA when usable.
enum class DeviceRequest { kCpu, kCuda, kAuto };

// "cpu", "cuda" or "auto" (the --device options); anything else is a ConfigError.
DeviceRequest device_request_named(const std::string& name);
// What a dist.backend asks for: "nccl" CUDA, "auto" CUDA when usable, "mpi" and "local" the CPU.
DeviceRequest device_request_for_backend(const std::string& backend);

// What this process can drive.
struct CudaProbe {
  bool vlmt_built_with_cuda = false;  // -DVLMT_WITH_CUDA=ON (NCCL, device selection)
  bool libtorch_has_cuda = false;     // the LibTorch was built with CUDA (at::hasCUDA())
  int visible_devices = 0;            // torch::cuda::device_count(): 0 without GPU or usable driver
  std::optional<std::string> cuda_visible_devices;
};

struct DeviceDecision {
  bool cuda = false;
  std::string note;  // why the CPU was chosen although a GPU might be expected (logged), or ""
};

// kCpu: the CPU. kCuda: CUDA, or an Error that says which of the three conditions failed;
// `asked_by` names the setting that asked (e.g. `dist.backend = "nccl"`, `--device cuda`).
// kAuto: CUDA when all three hold, else the CPU, with a note when the LibTorch or vlmt could
// drive a GPU but something is missing, so that a fallback to the CPU is never silent.
DeviceDecision decide_device(DeviceRequest request, const CudaProbe& probe, const std::string& asked_by);

// `ids[i]`: the identity (PCI bus id) of the GPU that local rank i drives, "" for a CPU rank.
// Throws an Error, the same on every rank, when two ranks drive one GPU (e.g. the launcher gave
// every rank CUDA_VISIBLE_DEVICES naming one device, so each sees it as cuda:0) or when some
// ranks of the node run on a GPU and others on the CPU.
void check_distinct_devices(const std::vector<std::string>& ids);

}  // namespace vlmt

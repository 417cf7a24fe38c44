// CUDA calls of device selection (compiled only with -DVLMT_WITH_CUDA=ON).
#ifdef VLMT_WITH_CUDA

#include "distributed/cuda_device.h"

#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime.h>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

void use_cuda_device(int index) {
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(index));
  // cudaFree(nullptr) is the documented idiom that initialises the current device's context.
  const cudaError_t rc = cudaFree(nullptr);
  if (rc != cudaSuccess)
    throw Error(ExitCode::kFailure, cat("cannot create a CUDA context on device ", index, ": ",
                                        cudaGetErrorString(rc)));
}

std::string cuda_pci_bus_id(int index) {
  char id[64] = {};
  const cudaError_t rc = cudaDeviceGetPCIBusId(id, sizeof id, index);
  if (rc != cudaSuccess)
    throw Error(ExitCode::kFailure, cat("cudaDeviceGetPCIBusId(", index, ") failed: ",
                                        cudaGetErrorString(rc)));
  return id;
}

}  // namespace vlmt

#endif  // VLMT_WITH_CUDA

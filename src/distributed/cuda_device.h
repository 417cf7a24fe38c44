#pragma once
// The CUDA calls of device selection (built only with -DVLMT_WITH_CUDA=ON; the definitions are
// in cuda_device_cuda.cpp, which the CPU build's ctest cuda_sources_compile compiles).
#include <string>

namespace vlmt {

#ifdef VLMT_WITH_CUDA
// Makes `index` the calling thread's current CUDA device (c10::cuda::set_device, so LibTorch's
// own notion of the current device agrees) and creates its context now: without this, the first
// CUDA call of the thread (cuBLAS handles, NCCL, a pinned-memory allocation) would create a
// context on device 0 on every rank.
void use_cuda_device(int index);

// The PCI bus id of device `index` ("0000:3b:00.0"), the identity that tells whether two ranks
// drive the same GPU whatever CUDA_VISIBLE_DEVICES made of its index.
std::string cuda_pci_bus_id(int index);
#endif

}  // namespace vlmt

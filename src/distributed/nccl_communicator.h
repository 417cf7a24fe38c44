#pragma once
// NCCL collectives on CUDA tensors (built only with -DVLMT_WITH_CUDA=ON; the definition is in
// nccl_communicator_cuda.cpp). The NCCL unique id travels from rank 0 over MPI.
#include <memory>

#include "distributed/communicator.h"

namespace vlmt {

class DistRuntime;

#ifdef VLMT_WITH_CUDA
// Collective over all ranks of `runtime`; `device` must be this rank's CUDA device.
std::unique_ptr<Communicator> make_nccl_communicator(DistRuntime& runtime, torch::Device device);
#endif

}  // namespace vlmt

#pragma once
// A CUDA runtime call that must succeed: throws vlmt::Error naming the call and CUDA's reason.
// Only for *_cuda.cpp files (built with -DVLMT_WITH_CUDA=ON; compile-checked by ctest
// cuda_sources_compile elsewhere).
#include <cuda_runtime.h>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

inline void check_cuda(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) throw Error(ExitCode::kFailure, cat(what, " failed: ", cudaGetErrorString(rc)));
}

}  // namespace vlmt

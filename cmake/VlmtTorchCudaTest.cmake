# ctest cmake_torch_sm90_check: the LibTorch check of cmake/VlmtTorchCuda.cmake accepts the
# LibTorch builds that run on H100/H200 and rejects those that do not, with the reason.
include(${CMAKE_CURRENT_LIST_DIR}/VlmtTorchCuda.cmake)

function(expect torch cuda want)
  vlmt_torch_sm90_problem(problem "${torch}" "${cuda}")
  if(NOT problem MATCHES "${want}" OR (want STREQUAL "^$" AND problem))
    message(FATAL_ERROR "LibTorch ${torch} CUDA '${cuda}': got '${problem}', expected /${want}/")
  endif()
  message(STATUS "LibTorch ${torch} CUDA '${cuda}': ${problem}")
endfunction()

expect(2.0.0 11.8 "^$")
expect(2.7.1 12.8 "^$")
expect(2.5.0 "" "^$")
expect(1.13.1 11.7 "LibTorch 1.13.1 has no sm_90 kernels .*LibTorch >= 2.0 built with CUDA >= 11.8")
expect(2.0.1 11.7 "built with CUDA 11.7, which has no sm_90")
expect("" 12.1 "version is unknown")

# The CUDA version as the two kinds of install record it.
set(dir ${CMAKE_CURRENT_BINARY_DIR}/torch_cuda_check)
file(WRITE ${dir}/wheel/torch/version.py "__version__ = '2.1.0+cu121'\ncuda: Optional[str] = '12.1'\n")
file(WRITE ${dir}/archive/libtorch/build-version "2.1.0+cu118\n")
vlmt_libtorch_cuda_version(wheel ${dir}/wheel/torch/share/cmake/Torch)
vlmt_libtorch_cuda_version(archive ${dir}/archive/libtorch/share/cmake/Torch)
vlmt_libtorch_cuda_version(none ${dir}/none/share/cmake/Torch)
if(NOT wheel STREQUAL "12.1" OR NOT archive STREQUAL "11.8" OR NOT none STREQUAL "")
  message(FATAL_ERROR "CUDA versions read: wheel '${wheel}' archive '${archive}' none '${none}'")
endif()
message(STATUS "CUDA versions read: wheel ${wheel}, archive ${archive}")

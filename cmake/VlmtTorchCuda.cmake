# The LibTorch of a CUDA build (-DVLMT_WITH_CUDA=ON) must have kernels for the GPUs it will run
# on. H100 and H200 are compute capability 9.0 (sm_90): CUDA 11.8 is the first toolkit that
# compiles for it, and PyTorch 2.0 the first release built with CUDA 11.8 (1.13 was built with
# CUDA 11.6/11.7 and stops with "sm_90 is not compatible with the current PyTorch installation").
set(VLMT_MIN_TORCH_FOR_SM90 2.0)
set(VLMT_MIN_TORCH_CUDA_FOR_SM90 11.8)

# vlmt_torch_sm90_problem(OUT TORCH_VERSION TORCH_CUDA_VERSION): sets OUT to "" when that LibTorch
# can drive sm_90, else to the reason. TORCH_CUDA_VERSION may be "" (not recorded by the install).
function(vlmt_torch_sm90_problem out torch_version torch_cuda)
  set(problem "")
  if(NOT torch_version)
    set(problem "the LibTorch's version is unknown (Torch_VERSION is not set)")
  elseif(torch_version VERSION_LESS VLMT_MIN_TORCH_FOR_SM90)
    set(problem "LibTorch ${torch_version} has no sm_90 kernels (H100/H200 need LibTorch >= "
                "${VLMT_MIN_TORCH_FOR_SM90} built with CUDA >= ${VLMT_MIN_TORCH_CUDA_FOR_SM90})")
  elseif(torch_cuda AND torch_cuda VERSION_LESS VLMT_MIN_TORCH_CUDA_FOR_SM90)
    set(problem "LibTorch ${torch_version} was built with CUDA ${torch_cuda}, which has no sm_90 "
                "(H100/H200 need CUDA >= ${VLMT_MIN_TORCH_CUDA_FOR_SM90}: take a cu118 or newer build)")
  endif()
  string(REPLACE ";" "" problem "${problem}")
  set(${out} "${problem}" PARENT_SCOPE)
endfunction()

# vlmt_libtorch_cuda_version(OUT TORCH_DIR): the CUDA version the LibTorch at TORCH_DIR
# (<root>/share/cmake/Torch) was built with, read from <root>/version.py (a PyTorch wheel:
# cuda = '12.1') or <root>/build-version (the LibTorch archive: 2.1.0+cu121); "" when neither says.
function(vlmt_libtorch_cuda_version out torch_dir)
  get_filename_component(root "${torch_dir}/../../.." ABSOLUTE)
  set(version "")
  if(EXISTS "${root}/version.py")
    file(STRINGS "${root}/version.py" line REGEX "^cuda.*=")
    if(line MATCHES "'([0-9]+\\.[0-9]+)")
      set(version ${CMAKE_MATCH_1})
    endif()
  elseif(EXISTS "${root}/build-version")
    file(READ "${root}/build-version" line)
    if(line MATCHES "\\+cu([0-9]+)([0-9])")
      set(version ${CMAKE_MATCH_1}.${CMAKE_MATCH_2})
    endif()
  endif()
  set(${out} "${version}" PARENT_SCOPE)
endfunction()

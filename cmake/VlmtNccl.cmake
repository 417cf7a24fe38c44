# NCCL for the CUDA build (-DVLMT_WITH_CUDA=ON): defines the imported target vlmt::nccl.
#
# Only one NCCL may be loaded in the process. libtorch_cuda.so needs libnccl.so.2 (pip wheels
# load it from the nvidia-nccl-cu* wheel next to torch); if vlmt linked a different libnccl.so.2,
# the dynamic loader would still load only one file for that SONAME, and one of the two would run
# against an NCCL it was not built for. So the search order is deliberate:
#   1. NCCL_ROOT or NCCL_HOME (cache variable or environment), when the cluster provides NCCL;
#   2. the NCCL of the PyTorch wheel that provides Torch_DIR (site-packages/nvidia/nccl);
#   3. the CUDA toolkit (/usr/local/cuda: include/nccl.h, lib64/libnccl.so).
# The version in the nccl.h found is printed here, and at run time the NCCL communicator
# compares it with the library actually loaded (ncclGetVersion) and warns on a mismatch.

set(_vlmt_nccl_hints "")
foreach(root ${NCCL_ROOT} $ENV{NCCL_ROOT} ${NCCL_HOME} $ENV{NCCL_HOME})
  list(APPEND _vlmt_nccl_hints ${root})
endforeach()
if(Torch_DIR)
  # <site-packages>/torch/share/cmake/Torch -> <site-packages>
  get_filename_component(_vlmt_site_packages "${Torch_DIR}/../../../.." ABSOLUTE)
  foreach(sub nvidia/nccl nvidia/cu13 nvidia/cu12)
    if(EXISTS "${_vlmt_site_packages}/${sub}/include/nccl.h")
      list(APPEND _vlmt_nccl_hints "${_vlmt_site_packages}/${sub}")
    endif()
  endforeach()
endif()
if(CUDAToolkit_LIBRARY_ROOT)
  list(APPEND _vlmt_nccl_hints ${CUDAToolkit_LIBRARY_ROOT})
endif()

# The wheel ships only libnccl.so.2 (no development symlink), hence the second name.
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_vlmt_nccl_hints} PATH_SUFFIXES include
          PATHS /usr/local/cuda REQUIRED)
find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${_vlmt_nccl_hints}
             PATH_SUFFIXES lib lib64 PATHS /usr/local/cuda REQUIRED)

file(STRINGS "${NCCL_INCLUDE_DIR}/nccl.h" _vlmt_nccl_version_lines
     REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
set(_vlmt_nccl_version "")
foreach(line ${_vlmt_nccl_version_lines})
  string(REGEX REPLACE "^#define NCCL_[A-Z]+ +([0-9]+).*" "\\1" part "${line}")
  list(APPEND _vlmt_nccl_version ${part})
endforeach()
string(REPLACE ";" "." _vlmt_nccl_version "${_vlmt_nccl_version}")
message(STATUS "vlmt: NCCL ${_vlmt_nccl_version}: ${NCCL_LIBRARY} (headers ${NCCL_INCLUDE_DIR})")

if(NOT TARGET vlmt::nccl)
  add_library(vlmt::nccl UNKNOWN IMPORTED)
  set_target_properties(vlmt::nccl PROPERTIES IMPORTED_LOCATION "${NCCL_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}")
endif()

# LibTorch and the system C++ libraries vlmt links (Boost, HDF5 C++, toml++) must agree on the
# std::string ABI. Debian builds everything with the C++11 ABI; old pip wheels used the old one.
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  message(FATAL_ERROR "The LibTorch at ${Torch_DIR} was built with _GLIBCXX_USE_CXX11_ABI=0, the "
                      "system libraries vlmt links use the C++11 ABI. Use a PyTorch >= 2.7 wheel "
                      "(C++11 ABI) or the cxx11-abi LibTorch archive (docs/PERFORMANCE.md).")
endif()

# CTest `cuda_sources_compile`: in a build without VLMT_WITH_CUDA, compile every src/**/*_cuda.cpp
# and every other source with an `#if... VLMT_WITH_CUDA` branch (to objects, never linked) with
# the library's flags plus VLMT_WITH_CUDA=1, against the LibTorch headers (c10/cuda, ATen/cuda)
# and the CUDA toolkit's cuda_runtime.h and nccl.h, so the GPU-only code keeps compiling on
# machines without a GPU. It prints the headers and versions it compiles against. Skipped (exit
# 77, with the reason) only when those headers are not installed. With VLMT_WITH_CUDA=ON the
# files are in the library.

file(GLOB_RECURSE VLMT_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*_cuda.cpp)
file(GLOB_RECURSE _vlmt_all_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*.cpp)
foreach(source ${_vlmt_all_sources})
  file(STRINGS ${source} _vlmt_cuda_branch REGEX "^#if.*VLMT_WITH_CUDA")
  if(_vlmt_cuda_branch AND NOT source MATCHES "_cuda\\.cpp$")
    list(APPEND VLMT_CUDA_SOURCES ${source})
  endif()
endforeach()

set(_vlmt_cuda_check_skip "")
if(VLMT_WITH_CUDA)
  set(_vlmt_cuda_check_skip "the *_cuda.cpp sources are compiled into the library (VLMT_WITH_CUDA=ON)")
elseif(NOT VLMT_CUDA_SOURCES)
  set(_vlmt_cuda_check_skip "no *_cuda.cpp sources")
else()
  find_path(VLMT_CHECK_CUDA_INCLUDE cuda_runtime.h
            HINTS ENV CUDA_HOME ENV CUDA_PATH PATHS /usr/local/cuda PATH_SUFFIXES include)
  find_path(VLMT_CHECK_NCCL_INCLUDE nccl.h HINTS ENV NCCL_ROOT ENV NCCL_HOME ENV CUDA_HOME
            PATHS /usr/local/cuda PATH_SUFFIXES include)
  find_path(VLMT_CHECK_C10_CUDA_INCLUDE c10/cuda/CUDAStream.h HINTS ${TORCH_INCLUDE_DIRS})
  if(NOT VLMT_CHECK_CUDA_INCLUDE)
    set(_vlmt_cuda_check_skip "cuda_runtime.h not found (set CUDA_HOME)")
  elseif(NOT VLMT_CHECK_NCCL_INCLUDE)
    set(_vlmt_cuda_check_skip "nccl.h not found (set NCCL_ROOT)")
  elseif(NOT VLMT_CHECK_C10_CUDA_INCLUDE)
    set(_vlmt_cuda_check_skip "this LibTorch has no c10/cuda headers")
  endif()
endif()

if(_vlmt_cuda_check_skip)
  add_test(NAME cuda_sources_compile
           COMMAND sh -c "echo 'SKIPPED: ${_vlmt_cuda_check_skip}'; exit 77")
  set_tests_properties(cuda_sources_compile PROPERTIES SKIP_RETURN_CODE 77 LABELS cuda)
  return()
endif()

# c10/cuda/impl/cuda_cmake_macros.h is generated when LibTorch is built; CUDA-enabled LibTorch
# installs it, a CPU LibTorch that ships the c10/cuda headers (Debian's) may not. Its content
# for a shared-library build is this one define.
set(_vlmt_cuda_shim "")
if(NOT EXISTS "${VLMT_CHECK_C10_CUDA_INCLUDE}/c10/cuda/impl/cuda_cmake_macros.h")
  set(_vlmt_cuda_shim ${CMAKE_BINARY_DIR}/cuda_check_include)
  file(WRITE ${_vlmt_cuda_shim}/c10/cuda/impl/cuda_cmake_macros.h
       "#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n")
endif()

add_library(vlmt_cuda_sources OBJECT EXCLUDE_FROM_ALL ${VLMT_CUDA_SOURCES})
target_link_libraries(vlmt_cuda_sources PRIVATE vlmt)  # the library's includes and defines
target_include_directories(vlmt_cuda_sources SYSTEM PRIVATE ${VLMT_CHECK_CUDA_INCLUDE}
                           ${VLMT_CHECK_NCCL_INCLUDE} ${_vlmt_cuda_shim})
target_compile_definitions(vlmt_cuda_sources PRIVATE VLMT_WITH_CUDA=1)
target_compile_options(vlmt_cuda_sources PRIVATE -Werror=return-type)
vlmt_warnings(vlmt_cuda_sources)

# What the check compiles against, printed by the test itself (and here at configure time).
file(STRINGS "${VLMT_CHECK_CUDA_INCLUDE}/cuda_runtime_api.h" _vlmt_cudart REGEX "^#define CUDART_VERSION")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _vlmt_cudart "${_vlmt_cudart}")
file(STRINGS "${VLMT_CHECK_NCCL_INCLUDE}/nccl.h" _vlmt_nccl REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE "#define NCCL_[A-Z]+ +([0-9]+)[^;]*" "\\1" _vlmt_nccl "${_vlmt_nccl}")
string(REPLACE ";" "." _vlmt_nccl "${_vlmt_nccl}")
set(_vlmt_cuda_names "")
foreach(source ${VLMT_CUDA_SOURCES})
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${source})
  string(APPEND _vlmt_cuda_names " ${rel}")
endforeach()
list(LENGTH VLMT_CUDA_SOURCES _vlmt_cuda_count)
set(_vlmt_cuda_what "compiling ${_vlmt_cuda_count} file(s) with VLMT_WITH_CUDA=1 against CUDA runtime headers \
${VLMT_CHECK_CUDA_INCLUDE} (CUDART_VERSION ${_vlmt_cudart}), nccl.h ${VLMT_CHECK_NCCL_INCLUDE} (NCCL \
${_vlmt_nccl}), LibTorch ${Torch_VERSION} c10/cuda headers ${VLMT_CHECK_C10_CUDA_INCLUDE}:${_vlmt_cuda_names}")
add_test(NAME cuda_sources_compile
         COMMAND sh -c "echo \"$1\" && exec \"$2\" --build \"$3\" --target vlmt_cuda_sources" sh
                 "${_vlmt_cuda_what}" ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR})
set_tests_properties(cuda_sources_compile PROPERTIES LABELS cuda TIMEOUT 900)
message(STATUS "vlmt: ctest cuda_sources_compile: ${_vlmt_cuda_what}")

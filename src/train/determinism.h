#pragma once
// train.deterministic = true: deterministic algorithms in LibTorch, and the cuBLAS workspace
// setting they need on CUDA. LibTorch refuses a cuBLAS GEMM in deterministic mode unless
// CUBLAS_WORKSPACE_CONFIG is ":4096:8" or ":16:8" (CUDA >= 10.2), and cuBLAS reads the variable
// when it creates its handle: it must be in the environment before the first CUDA operation.

namespace vlmt {

// Sets CUBLAS_WORKSPACE_CONFIG=":4096:8" unless it is set; a value set by the user must be one
// of the two deterministic ones (ConfigError naming the variable otherwise). Call before any
// CUDA operation and before other threads start (setenv is not thread-safe).
void require_deterministic_cublas_workspace();

// require_deterministic_cublas_workspace(), then deterministic algorithms in LibTorch (errors,
// not warnings, for an operation that has no deterministic implementation).
void enable_deterministic_algorithms();

}  // namespace vlmt

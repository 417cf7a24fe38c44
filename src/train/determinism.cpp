#include "train/determinism.h"

#include <cstdlib>

#include <torch/torch.h>

#include "core/env.h"
#include "core/log.h"

namespace vlmt {
namespace {

constexpr const char* kCublasWorkspaceVar = "CUBLAS_WORKSPACE_CONFIG";
// The values LibTorch accepts as deterministic; the first is its recommendation (more memory,
// faster).
constexpr const char* kDeterministicWorkspaces[] = {":4096:8", ":16:8"};

}  // namespace

void require_deterministic_cublas_workspace() {
  if (const auto value = env::text(kCublasWorkspaceVar)) {
    env::parse_choice(kCublasWorkspaceVar, *value, {kDeterministicWorkspaces[0], kDeterministicWorkspaces[1]});
    return;
  }
  setenv(kCublasWorkspaceVar, kDeterministicWorkspaces[0], /*overwrite=*/1);  // unset or empty
  log::info0(cat("train.deterministic: ", kCublasWorkspaceVar, "=", kDeterministicWorkspaces[0]));
}

void enable_deterministic_algorithms() {
  require_deterministic_cublas_workspace();
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
}

}  // namespace vlmt

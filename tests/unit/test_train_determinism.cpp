// train.deterministic = true puts CUBLAS_WORKSPACE_CONFIG in the environment (LibTorch refuses a
// deterministic cuBLAS GEMM without it), keeps a deterministic value the user set, and rejects
// one that LibTorch would refuse at the first GEMM (train/determinism.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "core/error.h"
#include "train/determinism.h"

namespace vlmt {
namespace {

// Restores CUBLAS_WORKSPACE_CONFIG as it was.
class CublasEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("CUBLAS_WORKSPACE_CONFIG")) saved_ = v;
  }
  void TearDown() override {
    if (saved_) setenv("CUBLAS_WORKSPACE_CONFIG", saved_->c_str(), 1);
    else unsetenv("CUBLAS_WORKSPACE_CONFIG");
  }
  static std::string value() {
    const char* v = std::getenv("CUBLAS_WORKSPACE_CONFIG");
    return v ? v : "<unset>";
  }
  std::optional<std::string> saved_;
};

TEST_F(CublasEnv, SetWhenUnset) {
  unsetenv("CUBLAS_WORKSPACE_CONFIG");
  require_deterministic_cublas_workspace();
  EXPECT_EQ(value(), ":4096:8");
  setenv("CUBLAS_WORKSPACE_CONFIG", "", 1);  // empty counts as unset (core/env.h)
  require_deterministic_cublas_workspace();
  EXPECT_EQ(value(), ":4096:8");
}

TEST_F(CublasEnv, TheUsersDeterministicValueIsKept) {
  setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8", 1);
  require_deterministic_cublas_workspace();
  EXPECT_EQ(value(), ":16:8");
}

TEST_F(CublasEnv, ANonDeterministicValueIsAConfigErrorNamingIt) {
  setenv("CUBLAS_WORKSPACE_CONFIG", ":0:0", 1);
  try {
    require_deterministic_cublas_workspace();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("CUBLAS_WORKSPACE_CONFIG=\":0:0\""), std::string::npos) << e.what();
  }
  EXPECT_EQ(value(), ":0:0");
}

TEST_F(CublasEnv, EnablingDeterminismSetsBoth) {
  unsetenv("CUBLAS_WORKSPACE_CONFIG");
  const bool before = at::globalContext().deterministicAlgorithms();
  enable_deterministic_algorithms();
  EXPECT_EQ(value(), ":4096:8");
  EXPECT_TRUE(at::globalContext().deterministicAlgorithms());
  at::globalContext().setDeterministicAlgorithms(before, false);
}

}  // namespace
}  // namespace vlmt

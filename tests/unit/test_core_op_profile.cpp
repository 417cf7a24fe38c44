#include <gtest/gtest.h>

#include <chrono>

#include <torch/torch.h>

#include "core/op_profile.h"

using namespace vlmt;

namespace {
const OpTime* row(const std::vector<OpTime>& ops, const std::string& name) {
  for (const auto& op : ops)
    if (op.name == name) return &op;
  return nullptr;
}
}  // namespace

TEST(CoreOpProfile, CountsEachOpsCallsAndSortsBySelfTime) {
  const auto a = torch::randn({64, 32}), b = torch::randn({32, 16});
  const auto ops = profile_ops([&] {
    for (int i = 0; i < 3; ++i) torch::mm(a, b);
    torch::relu(a);
  });
  const OpTime* mm = row(ops, "aten::mm");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->calls, 3);
  EXPECT_GT(mm->self_s, 0.0);
  ASSERT_NE(row(ops, "aten::relu"), nullptr);
  EXPECT_EQ(row(ops, "aten::relu")->calls, 1);
  for (size_t i = 1; i < ops.size(); ++i) EXPECT_GE(ops[i - 1].self_s, ops[i].self_s);
}

TEST(CoreOpProfile, SelfTimeExcludesTheOpsCalledInside) {
  // matmul of two matrices dispatches to mm: matmul's own time is what is left outside mm, so
  // the self times of all rows add up to no more than the wall time of the work.
  const auto a = torch::randn({256, 256});
  const auto t0 = std::chrono::steady_clock::now();
  const auto ops = profile_ops([&] { torch::matmul(a, a); });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_NE(row(ops, "aten::matmul"), nullptr);
  ASSERT_NE(row(ops, "aten::mm"), nullptr);
  double total = 0;
  for (const auto& op : ops) total += op.self_s;
  EXPECT_LE(total, wall);
  EXPECT_LT(row(ops, "aten::matmul")->self_s, row(ops, "aten::mm")->self_s);
}

TEST(CoreOpProfile, ByShapeGivesEachShapeItsOwnRow) {
  const auto a = torch::randn({8, 4}), b = torch::randn({4, 2}), c = torch::randn({2, 3});
  const auto ops = profile_ops(
      [&] {
        torch::mm(a, b);
        torch::mm(b, c);
      },
      /*by_shape=*/true);
  ASSERT_NE(row(ops, "aten::mm [8,4] [4,2]"), nullptr);
  ASSERT_NE(row(ops, "aten::mm [4,2] [2,3]"), nullptr);
  const std::string table = format_op_table(ops, 50);
  EXPECT_NE(table.find("aten::mm [8,4] [4,2]"), std::string::npos);
  EXPECT_NE(table.find("all ops"), std::string::npos);
}

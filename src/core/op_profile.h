#pragma once
// Where a piece of work spends its time, per LibTorch operator: the "self" time of each op
// (its own time, not that of the ops it called), summed over calls and threads. It answers
// "which op families dominate the step" (bench_step --profile) without Python's profiler.
// Uses LibTorch's legacy CPU profiler (push/pop ranges per thread). Its overhead is a few
// microseconds per op, which inflates ops called tens of thousands of times (bmm's per-matrix
// select), so profile a step that is not also being timed.
#include <functional>
#include <string>
#include <vector>

namespace vlmt {

struct OpTime {
  std::string name;  // "aten::addmm", or with input shapes "aten::addmm [1024] [808,64] [64,1024]"
  double self_s = 0;  // summed self time
  long long calls = 0;
};

// Runs `work` once under the profiler; ops (with their input shapes when `by_shape`, each shape
// combination a row of its own) sorted by self time, largest first.
std::vector<OpTime> profile_ops(const std::function<void()>& work, bool by_shape = false);

// A table of the `rows` largest, with each row's share of all ops' self time.
std::string format_op_table(const std::vector<OpTime>& ops, int rows);

}  // namespace vlmt

#include "core/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace vlmt {

namespace prof = torch::autograd::profiler;

namespace {
// The row an event counts towards: its op name, followed by its inputs' shapes when by_shape.
std::string row_name(const prof::LegacyEvent& e, bool by_shape) {
  std::string name = e.name();
  if (!by_shape) return name;
  for (const auto& shape : e.shapes()) {
    if (shape.empty()) continue;  // a scalar or optional argument
    name += " [";
    for (size_t d = 0; d < shape.size(); ++d) name += (d ? "," : "") + std::to_string(shape[d]);
    name += "]";
  }
  return name;
}

// One thread's push/pop events in time order → self time per row. A range's self time is its
// elapsed time minus that of the ranges directly inside it.
void add_self_times(const std::vector<prof::LegacyEvent>& events, bool by_shape, std::map<std::string, OpTime>& out) {
  struct Open {
    const prof::LegacyEvent* event;
    double children_us;
  };
  std::vector<Open> stack;
  for (const auto& e : events) {
    if (e.kind() == prof::EventKind::PushRange) {
      stack.push_back({&e, 0.0});
    } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
      const Open open = stack.back();
      stack.pop_back();
      const double elapsed = open.event->cpuElapsedUs(e);
      const std::string name = row_name(*open.event, by_shape);
      OpTime& op = out[name];
      op.name = name;
      op.self_s += (elapsed - open.children_us) * 1e-6;
      ++op.calls;
      if (!stack.empty()) stack.back().children_us += elapsed;
    }
  }
}
}  // namespace

std::vector<OpTime> profile_ops(const std::function<void()>& work, bool by_shape) {
  using torch::profiler::impl::ProfilerConfig;
  using torch::profiler::impl::ProfilerState;
  prof::thread_event_lists lists;
  {
    prof::TLSLegacyProfilerGuard guard(ProfilerConfig(ProfilerState::CPU, /*report_input_shapes=*/by_shape),
                                       [&](const prof::thread_event_lists& l) { lists = l; });
    work();
  }
  std::map<std::string, OpTime> by_name;
  for (const auto& events : lists) add_self_times(events, by_shape, by_name);
  std::vector<OpTime> ops;
  for (auto& [name, op] : by_name) ops.push_back(std::move(op));
  std::sort(ops.begin(), ops.end(), [](const OpTime& a, const OpTime& b) { return a.self_s > b.self_s; });
  return ops;
}

std::string format_op_table(const std::vector<OpTime>& ops, int rows) {
  double total = 0;
  for (const auto& op : ops) total += op.self_s;
  std::string text;
  char line[256];
  std::snprintf(line, sizeof line, "  %-44s %10s %7s %7s\n", "op (self time)", "ms", "share", "calls");
  text += line;
  for (int i = 0; i < rows && i < static_cast<int>(ops.size()); ++i) {
    std::snprintf(line, sizeof line, "  %-44s %10.1f %6.1f%% %7lld\n", ops[i].name.c_str(), ops[i].self_s * 1e3,
                  total > 0 ? 100.0 * ops[i].self_s / total : 0.0, ops[i].calls);
    text += line;
  }
  std::snprintf(line, sizeof line, "  %-44s %10.1f\n", "all ops", total * 1e3);
  return text + line;
}

}  // namespace vlmt

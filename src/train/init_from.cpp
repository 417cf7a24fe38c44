#include "train/init_from.h"

#include <algorithm>
#include <set>

#include "ckpt/blob.h"
#include "core/log.h"
#include "tasks/task_kind.h"
#include "tasks/task_table.h"
#include "train/trainer_state.h"

namespace vlmt {

ckpt::NamedTensors trained_parameters(const ckpt::CheckpointData& data, const std::string& path) {
  const auto state = ckpt::from_blob<TrainerState>(data.trainer_state);
  std::set<std::string> prefixes = {"bert.", "cls."};
  for (const auto& [key, stream] : state.streams) prefixes.insert(task_by_key(key).kind().head() + ".");
  ckpt::NamedTensors kept;
  std::set<std::string> left_out;
  for (const auto& [name, tensor] : data.params) {
    const bool trained = std::any_of(prefixes.begin(), prefixes.end(),
                                     [&](const std::string& p) { return name.rfind(p, 0) == 0; });
    if (trained) kept.emplace_back(name, tensor);
    else left_out.insert(name.substr(0, name.find('.')));
  }
  if (!left_out.empty()) {
    std::string heads;
    for (const auto& h : left_out) heads += (heads.empty() ? "" : ", ") + h;
    log::info0(cat(path, ": its ", data.stage, " stage did not train ", heads,
                   "; they start from this run's initialisation"));
  }
  return kept;
}

}  // namespace vlmt

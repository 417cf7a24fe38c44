#include "train/checkpoint_summary.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "catalog/task_catalog.h"
#include "ckpt/blob.h"
#include "ckpt/crc32.h"
#include "ckpt/model_checkpoint.h"
#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"
#include "train/schedule_registry.h"
#include "train/trainer_state.h"

namespace vlmt {
namespace {

int64_t element_count(const ckpt::NamedTensors& tensors) {
  int64_t n = 0;
  for (const auto& [name, t] : tensors) n += t.numel();
  return n;
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

// Per task: its schedule state at the checkpoint's iteration, rebuilt from the stored config
// and the schedule's saved state ("-" when the run had no schedule state).
std::vector<std::string> schedule_states(const RunConfig& cfg, const TrainerState& state,
                                         const std::vector<std::string>& keys) {
  std::vector<std::string> labels(keys.size(), "-");
  if (state.schedule_blob.empty()) return labels;
  std::vector<ScheduledTask> tasks;
  for (const auto& key : keys) tasks.push_back({key, group_index(cfg.catalog.by_key(key).group), 1});
  TrainConfig train = cfg.train;
  train.schedule = state.schedule_name;
  auto schedule = make_task_schedule(train, tasks, state.total_iterations);
  schedule->load_state(state.schedule_blob);
  for (size_t i = 0; i < keys.size(); ++i) labels[i] = schedule->state_label(i, state.iteration);
  return labels;
}

void list_checkpoint_tensors(const char* group, const ckpt::NamedTensors& tensors, std::ostream& out) {
  for (const auto& [name, t] : tensors)
    out << group << "/" << name << " " << ckpt::dtype_name(t.scalar_type()) << " " << t.sizes() << "\n";
}

}  // namespace

std::string summarize_checkpoint(const std::string& path, const ckpt::CheckpointData& data) {
  const RunConfig cfg = ckpt::stored_run_config(data, path);
  const auto state = ckpt::from_blob<TrainerState>(data.trainer_state);
  const bool pretraining = state.stage == "pretrain";
  const std::vector<std::string> keys =
      pretraining ? std::vector<std::string>{cfg.catalog.pretraining().key} : cfg.tasks.active;
  std::ostringstream out;
  out << path << ": stage checkpoint (format " << data.format_version << ")\n"
      << "  stage     " << data.stage << ", iteration " << state.iteration << " of " << state.total_iterations
      << ", trained on " << state.world_size << " rank(s), schedule "
      << (state.schedule_name.empty() ? "-" : state.schedule_name) << ", seed " << cfg.train.seed << "\n"
      << "  model     preset " << cfg.model.preset << ", " << element_count(data.params) << " parameters in "
      << data.params.size() << " tensors; " << data.optim.size() << " optimiser tensors\n"
      << "  config    crc32 " << hex32(ckpt::crc32(data.config_toml.data(), data.config_toml.size())) << " ("
      << data.config_toml.size() << " bytes; ckpt_info --config prints it)\n";
  // Feature fingerprints, one line per distinct feature store with the streams that read it.
  std::map<std::string, std::string> readers;
  for (const auto& [key, fingerprint] : data.fingerprints) readers[fingerprint] += " " + key;
  if (readers.empty()) out << "  features  none recorded\n";
  for (const auto& [fingerprint, keys] : readers) out << "  features  " << fingerprint << ":" << keys << "\n";
  const auto labels = schedule_states(cfg, state, keys);
  char line[160];
  std::snprintf(line, sizeof line, "  %-20s %-8s %8s %6s %9s\n", "task", "state", "updates", "epoch", "last val");
  out << line;
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto it = state.streams.find(keys[i]);
    const StreamState s = it == state.streams.end() ? StreamState{} : it->second;
    const std::string score = s.last_score < 0 ? "-" : cat(s.last_score);
    std::snprintf(line, sizeof line, "  %-20s %-8s %8lld %6lld %9s\n", keys[i].c_str(), labels[i].c_str(),
                  static_cast<long long>(s.updates), static_cast<long long>(s.epoch), score.c_str());
    out << line;
  }
  return out.str();
}

std::string summarize_parameters(const std::string& path, const ckpt::NamedTensors& tensors) {
  return cat(path, ": parameter file (no training state), ", element_count(tensors), " parameters in ",
             tensors.size(), " tensors\n");
}

void print_checkpoint_info(const std::string& path, const CheckpointInfoOptions& options, std::ostream& out) {
  std::string kind;
  {
    h5::Handle file = h5::open_file_readonly(path);
    kind = h5::has_attr(file.get(), "kind") ? h5::read_string_attr(file.get(), "kind", path) : "parameters";
  }
  const bool quiet = options.quiet;
  if (kind == "checkpoint") {
    ckpt::CheckpointData data = ckpt::read_checkpoint(path);  // verifies every checksum
    if (!quiet) out << summarize_checkpoint(path, data);
    if (!quiet && options.config) out << "# stored config\n" << data.config_toml << "\n";
    if (!quiet && options.tensors) {
      list_checkpoint_tensors("/params", data.params, out);
      list_checkpoint_tensors("/optim", data.optim, out);
      for (const auto& [name, t] : data.rng) out << "/rng/" << name << " " << t.sizes() << "\n";
    }
    out << path << ": stage checkpoint, stage " << data.stage << ", " << data.params.size() + data.optim.size()
        << " tensors and the trainer state (" << data.trainer_state.size() << " bytes); all checksums OK\n";
  } else {
    if (options.config) throw ConfigError(cat(path, ": a parameter file stores no config (--config)"));
    ckpt::NamedTensors tensors = ckpt::read_tensors(path);
    if (!quiet) out << summarize_parameters(path, tensors);
    if (!quiet && options.tensors) list_checkpoint_tensors("/params", tensors, out);
    out << path << ": parameter file, " << tensors.size() << " tensors; all checksums OK\n";
  }
}

}  // namespace vlmt

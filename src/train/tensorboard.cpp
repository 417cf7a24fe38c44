#include "train/tensorboard.h"

#include <unistd.h>

#include <cctype>
#include <filesystem>

#include "core/log.h"
#include "eval/metrics_schema.h"
#include "train/progress.h"

namespace fs = std::filesystem;

namespace vlmt {
namespace {

using nlohmann::json;

constexpr const char* kEventFilePrefix = "events.out.tfevents.";

void add(std::vector<tfevents::Scalar>& out, const std::string& tag, const json& value) {
  if (value.is_number()) out.push_back({tag, value.get<float>()});
}

// Every {name: number} entry of record[field] as <prefix><name>.
void add_named(std::vector<tfevents::Scalar>& out, const std::string& prefix, const json& record, const char* field) {
  if (!record.contains(field) || !record[field].is_object()) return;
  for (const auto& [name, value] : record[field].items()) add(out, prefix + name, value);
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

std::string tensorboard_task_name(const std::string& task) {
  std::string out;
  for (const char c : task) {
    if (c == '+') out += "plus";
    else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '/') out += c;
    else out += '_';
  }
  return out;
}

std::vector<tfevents::Scalar> tensorboard_scalars(const json& r) {
  std::vector<tfevents::Scalar> out;
  const std::string kind = r.value(metrics_field::kKind, "");
  const std::string task =
      r.contains(metrics_field::kTask) && r[metrics_field::kTask].is_string()
          ? tensorboard_task_name(r[metrics_field::kTask].get<std::string>())
          : "";
  if (kind == metrics_kind::kTrain) {
    add(out, "train/" + task + "_loss", r.value(metrics_field::kLoss, json()));
    add(out, "train/" + task + "_score", r.value(metrics_field::kBatchScore, json()));
    add_named(out, "train/" + task + "_", r, metrics_field::kLosses);
  } else if (kind == metrics_kind::kVal) {
    add(out, "val/" + task + "_loss", r.value(metrics_field::kLoss, json()));
    add(out, "val/" + task + "_score", r.value(metrics_field::kScore, json()));
    add_named(out, "val/" + task + "_", r, metrics_field::kMetrics);
    add_named(out, "val/" + task + "_", r, metrics_field::kLosses);
  } else if (kind == metrics_kind::kProgress) {
    add(out, "train/lr", r.value(metrics_field::kLr, json()));
    add(out, "train/samples_per_s", r.value(metrics_field::kSamplesPerS, json()));
    add_named(out, "time/", r, metrics_field::kTimeS);
    if (r.contains(metrics_field::kTasks) && r[metrics_field::kTasks].is_object())
      for (const auto& [key, t] : r[metrics_field::kTasks].items())
        if (t.is_object() && t.contains(metrics_field::kState))
          out.push_back({"dsg/" + tensorboard_task_name(key) + "_go",
                         t[metrics_field::kState] == metrics_state::kGo ? 1.0f : 0.0f});
  } else if (kind == metrics_kind::kDsg) {
    out.push_back({"val/" + task + "_early_stop",
                   r.value(metrics_field::kState, "") == metrics_state::kStop ? 1.0f : 0.0f});
    add(out, "dsg/" + task + "_best", r.value(metrics_field::kBest, json()));
  } else if (kind == metrics_kind::kDsgReset) {
    add(out, "dsg/reset_epoch", r.value(metrics_field::kEpoch, json()));
  }
  return out;
}

TensorBoardLog::TensorBoardLog(std::string run_dir) : run_dir_(std::move(run_dir)) {}

void TensorBoardLog::record(const json& r) {
  if (r.value(metrics_field::kKind, "") == metrics_kind::kRunInfo && !file_) {
    const int64_t start = r.value(metrics_field::kIter, int64_t{0});
    for (const auto& entry : fs::directory_iterator(run_dir_)) {
      if (entry.path().filename().string().rfind(kEventFilePrefix, 0) != 0) continue;
      if (const uint64_t cut = tfevents::truncate_after_step(entry.path().string(), start))
        log::info0(cat("TensorBoard: ", entry.path().string(), ": removed ", cut, " bytes of steps after ", start,
                       " (the iteration this run starts from) or of a torn last record"));
    }
    return;
  }
  const auto scalars = tensorboard_scalars(r);
  if (scalars.empty()) return;
  if (!file_) {
    const auto now = static_cast<long long>(unix_time_s());
    file_ = std::make_unique<tfevents::EventFileWriter>(
        (fs::path(run_dir_) / cat(kEventFilePrefix, now, ".", host_name())).string());
    log::info0(cat("TensorBoard: writing ", file_->path(), " (tensorboard --logdir ", run_dir_, ")"));
  }
  file_->write_scalars(r.value(metrics_field::kIter, int64_t{0}), r.value(metrics_field::kTime, 0.0), scalars);
  file_->flush();
}

}  // namespace vlmt

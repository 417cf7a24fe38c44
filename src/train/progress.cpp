#include "train/progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/log.h"
#include "eval/metrics_schema.h"

namespace vlmt {
namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
  return value && std::isfinite(*value) ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json metrics_record(const char* kind, int64_t iteration) {
  return {{metrics_field::kKind, kind}, {metrics_field::kIter, iteration}, {metrics_field::kTime, unix_time_s()}};
}

// record[field] = {name: value}, when there is any.
void put_named_values(nlohmann::json& record, const char* field, const NamedValues& values) {
  if (values.empty()) return;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [name, value] : values) m[name] = finite_or_null(value);
  record[field] = std::move(m);
}

std::string fixed(const std::optional<double>& value, int digits) {
  if (!value || !std::isfinite(*value)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, *value);
  return buffer;
}

}  // namespace

ThroughputMeter::ThroughputMeter(int64_t start_iteration, double start_time_s)
    : start_iteration_(start_iteration), start_time_s_(start_time_s),
      iteration_(start_iteration), now_s_(start_time_s) {}

void ThroughputMeter::update(int64_t iteration, int64_t samples, double now_s) {
  iteration_ = iteration;
  samples_ += samples;
  now_s_ = now_s;
}

double ThroughputMeter::samples_per_s() const {
  const double elapsed = now_s_ - start_time_s_;
  return elapsed > 0.0 ? static_cast<double>(samples_) / elapsed : 0.0;
}

std::optional<double> ThroughputMeter::eta_s(int64_t total) const {
  const int64_t done = iteration_ - start_iteration_;
  if (done <= 0) return std::nullopt;
  const double per_iteration = (now_s_ - start_time_s_) / static_cast<double>(done);
  return per_iteration * static_cast<double>(std::max<int64_t>(0, total - iteration_));
}

double unix_time_s() {
  using namespace std::chrono;
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) return "-:--:--";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  return buffer;
}

std::string format_progress_line(const ProgressSnapshot& s) {
  char head[160];
  const double percent = s.total > 0 ? 100.0 * static_cast<double>(s.iteration) / s.total : 0.0;
  std::snprintf(head, sizeof head, "iter %lld/%lld (%.1f%%) | lr %.2e | %.1f samples/s | ETA %s",
                static_cast<long long>(s.iteration), static_cast<long long>(s.total), percent,
                s.lr, s.samples_per_s, s.eta_s ? format_duration(*s.eta_s).c_str() : "-:--:--");
  std::ostringstream line;
  line << head;
  for (const auto& t : s.tasks)
    line << " | " << t.task << " loss " << fixed(t.loss, 4) << " score " << fixed(t.score, 4)
         << " " << t.state;
  if (!s.time_split.empty()) {
    line << " | s/iter";
    for (const auto& [phase, seconds] : s.time_split) line << " " << phase << " " << fixed(seconds, 3);
  }
  return line.str();
}

nlohmann::json progress_record(const ProgressSnapshot& s) {
  nlohmann::json r = metrics_record(metrics_kind::kProgress, s.iteration);
  r[metrics_field::kTotal] = s.total;
  r[metrics_field::kLr] = finite_or_null(s.lr);
  r[metrics_field::kSamplesPerS] = finite_or_null(s.samples_per_s);
  r[metrics_field::kEtaS] = optional_number(s.eta_s);
  nlohmann::json tasks = nlohmann::json::object();
  for (const auto& t : s.tasks)
    tasks[t.task] = {{metrics_field::kLoss, optional_number(t.loss)},
                     {metrics_field::kScore, optional_number(t.score)},
                     {metrics_field::kState, t.state}};
  r[metrics_field::kTasks] = std::move(tasks);
  if (!s.time_split.empty()) {
    nlohmann::json split = nlohmann::json::object();
    for (const auto& [phase, seconds] : s.time_split) split[phase] = finite_or_null(seconds);
    r[metrics_field::kTimeS] = std::move(split);
  }
  return r;
}

nlohmann::json train_record(int64_t iteration, const TaskProgress& task, double lr, double samples_per_s) {
  nlohmann::json r = metrics_record(metrics_kind::kTrain, iteration);
  r[metrics_field::kTask] = task.task;
  r[metrics_field::kLoss] = optional_number(task.loss);
  r[metrics_field::kScore] = optional_number(task.score);
  r[metrics_field::kBatchScore] = optional_number(task.batch_score);
  r[metrics_field::kLr] = finite_or_null(lr);
  r[metrics_field::kSamplesPerS] = finite_or_null(samples_per_s);
  put_named_values(r, metrics_field::kLosses, task.losses);
  return r;
}

nlohmann::json val_record(int64_t iteration, const std::string& task, int64_t epoch, const ValidationSummary& v) {
  nlohmann::json r = metrics_record(metrics_kind::kVal, iteration);
  r[metrics_field::kTask] = task;
  r[metrics_field::kEpoch] = epoch;
  r[metrics_field::kScore] = finite_or_null(v.score);
  r[metrics_field::kLoss] = finite_or_null(v.loss);
  put_named_values(r, metrics_field::kMetrics, v.metrics);
  put_named_values(r, metrics_field::kLosses, v.losses);
  return r;
}

std::string format_validation_line(int64_t iteration, const std::string& task, double score,
                                   const NamedValues& metrics) {
  std::string line = cat("val ", task, " at iter ", iteration, ": score ", fixed(score, 4));
  for (const auto& [name, value] : metrics) line += cat(" | ", name, " ", fixed(value, 4));
  return line;
}

nlohmann::json dsg_record(const std::string& task, const DsgEvent& event) {
  nlohmann::json r = metrics_record(metrics_kind::kDsg, event.iteration);
  r[metrics_field::kTask] = task;
  r[metrics_field::kState] = dsg_mode_name(event.mode);
  r[metrics_field::kBest] = finite_or_null(event.best);
  r[metrics_field::kEpoch] = event.epoch;
  r[metrics_field::kScore] = finite_or_null(event.score);
  r[metrics_field::kSwitched] = event.switched;
  return r;
}

nlohmann::json dsg_reset_record(int64_t iteration, int64_t epoch) {
  nlohmann::json r = metrics_record(metrics_kind::kDsgReset, iteration);
  r[metrics_field::kEpoch] = epoch;
  return r;
}

}  // namespace vlmt

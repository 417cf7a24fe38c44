#pragma once
// The names of metrics.jsonl, a run's record of its training (one JSON object per line): the
// one place they are spelled. The trainer writes it (train/progress.cpp, the schedules through
// it); eval/metrics_log.cpp (the report), train/tensorboard.cpp and tools/learning_curves.py read
// it. The Python tool cannot include this header: it names the fields it reads in constants that
// the unit test EvalMetricsSchema.LearningCurvesReadsTheseNames compares with these.
// What each field means: docs/TRAINING.md ("metrics.jsonl"). Readers ignore unknown kinds and
// fields, so the trainer may log more without breaking them.
namespace vlmt {

// The "kind" of a record.
namespace metrics_kind {
inline constexpr const char* kTrain = "train";        // one per task and log interval
inline constexpr const char* kVal = "val";            // one per validation of a task
inline constexpr const char* kDsg = "dsg";            // a DSG monitor's state after a validation
inline constexpr const char* kDsgReset = "dsg_reset"; // every monitor reset
inline constexpr const char* kProgress = "progress";  // one per log interval, all tasks
inline constexpr const char* kRunInfo = "run_info";   // RunInfo (eval/results.h), a run's first record
}  // namespace metrics_kind

// Field names.
namespace metrics_field {
inline constexpr const char* kKind = "kind";  // every record
inline constexpr const char* kIter = "iter";  // every record: the 1-based iteration it refers to
inline constexpr const char* kTime = "time";  // every record: Unix seconds
inline constexpr const char* kTask = "task";  // train, val, dsg
inline constexpr const char* kLoss = "loss";
inline constexpr const char* kScore = "score";
inline constexpr const char* kBatchScore = "batch_score";
inline constexpr const char* kLr = "lr";
inline constexpr const char* kSamplesPerS = "samples_per_s";
inline constexpr const char* kLosses = "losses";    // {loss term: value}
inline constexpr const char* kMetrics = "metrics";  // val: {further metric: value}
inline constexpr const char* kEpoch = "epoch";
inline constexpr const char* kState = "state";      // dsg; progress per task
inline constexpr const char* kBest = "best";
inline constexpr const char* kSwitched = "switched";
inline constexpr const char* kTotal = "total";
inline constexpr const char* kEtaS = "eta_s";
inline constexpr const char* kTasks = "tasks";      // progress: {task: {loss, score, state}}
inline constexpr const char* kTimeS = "time_s";     // progress: {phase: seconds per iteration}
// train: a task's cumulative update count; read when present (the trainer does not write it
// now: the report then counts the task's train records).
inline constexpr const char* kUpdates = "updates";
}  // namespace metrics_field

// Values of "state" in dsg records (and of the schedule label "go" in progress records).
namespace metrics_state {
inline constexpr const char* kGo = "go";
inline constexpr const char* kStop = "stop";
}  // namespace metrics_state

}  // namespace vlmt

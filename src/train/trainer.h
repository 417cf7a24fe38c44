#pragma once
// The training loop shared by the three stages (paper section 3.3, Algorithm 1).
//
//   pretrain  one stream: the captions corpus with the pretraining objective
//   mt_train  one stream per active task, round-robin under the configured schedule (DSG, ...)
//   finetune  mt_train with one task, started from a multi-task checkpoint
//
// One iteration: for each stream the schedule lets train, forward one batch, backward with the
// gradient all-reduce overlapped (trunk + that stream's head only), AdamW step; then streams at
// the end of their epoch are validated (distributed) and the schedule updated identically on all
// ranks; the LR schedule advances; progress, checkpoints and the stop agreement follow.
#include <memory>
#include <string>
#include <vector>

#include "core/jsonl.h"
#include "data/loader.h"
#include "dist/grad_sync.h"
#include "dist/stop_signal.h"
#include "model/multitask_model.h"
#include "tasks/objective.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"
#include "train/progress.h"
#include "train/stage.h"
#include "train/task_schedule.h"
#include "train/trainer_state.h"

namespace vlmt {

class Trainer {
 public:
  explicit Trainer(StageContext& ctx);
  // Trains to the end (returns 0) or until a stop signal / --max-hours (checkpoint, returns 75).
  int run();
  // --plan: parameter count, steps per task, memory and time estimates; returns 0.
  int plan();

  // For tests.
  MultiTaskModel& model() { return model_; }
  const TrainerState& state() const { return state_; }

 private:
  struct Stream {
    std::string key;                 // task key, or "pretrain"
    const TaskSpec* spec = nullptr;  // null for pretraining
    std::unique_ptr<TaskObjective> objective;
    std::unique_ptr<TaskLoader> loader;
    std::shared_ptr<const TaskDataset> val;
    int64_t rank_batch = 0;          // per-rank batch size
    int64_t epochs = 0;
    double loss_scale = 1.0;
    std::vector<NamedParameter> sync_params;  // trunk + this stream's head
    double loss_sum = 0;             // since the last progress report
    int64_t loss_steps = 0;
  };
  struct StepStats {
    double loss = 0;
    int64_t rows = 0;
  };

  void build_streams();
  void build_optimisation();
  bool resume();
  void initialise_from(const std::string& path);
  StepStats train_step(Stream& s, double weight = 1.0);  // weight: the schedule's, scales the loss
  double validate(Stream& s);
  void report_progress(int64_t iteration, ThroughputMeter& meter);
  void save_checkpoint();
  std::vector<NamedParameter> trunk_and(const std::vector<std::string>& head_prefixes) const;
  void write_metric(const nlohmann::json& record);

  StageContext& ctx_;
  const RunConfig& cfg_;
  Communicator& comm_;
  MultiTaskModel model_{nullptr};
  std::vector<Stream> streams_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<WarmupLinearSchedule> lr_;
  std::unique_ptr<TaskSchedule> schedule_;
  std::unique_ptr<GradientSynchronizer> sync_;
  std::unique_ptr<JsonlWriter> metrics_;  // rank 0 only
  std::map<std::string, std::string> fingerprints_;
  double base_lr_ = 0;
  TrainerState state_;
};

}  // namespace vlmt

#pragma once
// The training loop shared by the three stages (paper section 3.3, Algorithm 1), assembled from
// injected parts (TrainerParts) so that it runs the same on MPI ranks and in a unit test.
//
//   pretrain  one stream: the captions corpus with the pretraining objective
//   mt_train  one stream per active task, round-robin under the configured schedule (DSG, ...)
//   finetune  mt_train with one task, started from a multi-task checkpoint
//
// One iteration: for each stream the schedule lets train, forward and backward its batch (as
// train.gradient_accumulation micro-batches), the gradient all-reduce overlapped with the last
// backward (trunk + that stream's head only), AdamW step; then streams at
// the end of their epoch are validated (distributed) and the schedule updated identically on all
// ranks; the LR schedule advances; progress, checkpoints and the stop agreement follow. After
// the last iteration every stream not validated in it is validated (no schedule decision).
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/run_config.h"
#include "core/jsonl.h"
#include "data/loader.h"
#include "distributed/communicator.h"
#include "distributed/grad_sync.h"
#include "distributed/stop_signal.h"
#include "model/multitask_model.h"
#include "train/phase_times.h"
#include "train/adamw.h"
#include "train/checkpoint_store.h"
#include "train/lr_schedule.h"
#include "train/progress.h"
#include "train/task_schedule.h"
#include "train/trainer_state.h"

namespace vlmt {

// One task the trainer steps: its spec (the kind gives the objective) with its train and
// validation datasets and the batch, epochs and LR it trains with.
struct TrainingStream {
  const TaskSpec* spec = nullptr;
  std::shared_ptr<const TaskDataset> train, val;
  int64_t global_batch = 0;  // summed over ranks
  int64_t epochs = 0;
  double lr = 0;             // the task's LR (the released loss scale is lr / base LR)
};

// Builds the schedule of a run from its tasks (default: train.schedule's registered policy).
using ScheduleMaker = std::function<std::unique_ptr<TaskSchedule>(std::vector<ScheduledTask> tasks,
                                                                    int64_t total_iterations)>;

// Everything a Trainer is assembled from. The stage executables build these from the config,
// the data root and MPI (assemble_trainer_parts, train/trainer_parts.h); a unit test builds them
// in memory with a local communicator.
struct TrainerParts {
  RunConfig config;                 // model.* and train.* (the loop's settings)
  std::string run_name;             // the run_info "run" field
  torch::Device device = torch::kCPU;
  Communicator* control = nullptr;  // validation sums, schedule decisions, the stop flag
  Communicator* grad = nullptr;     // trunk gradients (NCCL on GPUs); used with several ranks
  std::vector<TrainingStream> streams;
  std::shared_ptr<CheckpointStore> checkpoints;  // shared: a test resumes a second trainer from it
  std::function<void(const nlohmann::json&)> metrics;  // metrics.jsonl records (rank 0); may be empty
  std::function<double()> clock = unix_time_s;         // wall seconds: throughput, ETA, --max-hours
  ScheduleMaker make_schedule;      // empty = make_task_schedule(config.train, ...) (train/schedule_registry.h)
  bool stop_signals = true;         // install the SIGTERM/SIGUSR1 handlers
};

class Trainer {
 public:
  explicit Trainer(TrainerParts parts);
  // Trains to the end (returns 0) or until a stop signal / --max-hours (checkpoint, returns 75).
  int run();

  // For tests.
  MultiTaskModel& model() { return model_; }
  const TrainerState& state() const { return state_; }
  double base_lr() const { return base_lr_; }           // after train.lr_multiplier
  double loss_scale_of(const std::string& task) const;  // the scale its loss is multiplied by
  const AdamW& optimizer() const { return *optimizer_; }
  const TaskSchedule& schedule() const { return *schedule_; }

 private:
  struct Stream {
    std::string key;                 // task key ("pretrain" for pretraining)
    const TaskSpec* spec = nullptr;  // its kind gives the objective
    // One loader per micro-batch (train.gradient_accumulation = k): micro-batch j of rank r
    // reads shard r·k + j of ranks·k, in lockstep with the others.
    std::vector<std::unique_ptr<TaskLoader>> loaders;
    std::shared_ptr<const TaskDataset> val;
    int64_t rank_batch = 0;          // per-rank micro-batch size (the per-rank batch when k = 1)
    int64_t epochs = 0;
    double loss_scale = 1.0;
    std::vector<NamedParameter> sync_params;  // trunk + this stream's head
    // Since the last progress report: losses, training batch scores, loss terms (TaskKind::loss_part_names).
    double loss_sum = 0;
    int64_t loss_steps = 0;
    double score_sum = 0;
    int64_t score_count = 0;
    std::vector<double> loss_part_sums;
    TaskLoader& loader() const { return *loaders.front(); }  // epochs, positions, the dataset
  };
  struct StepStats {
    double loss = 0;
    int64_t rows = 0;
  };

  void build_streams();
  void build_optimisation();
  bool resume();
  std::set<std::string> initialise_from(const std::string& path);  // the parameters it loaded
  // Records the answer vocabularies of this run's heads (DataError if one differs from what the
  // loaded weights were trained with) and its feature fingerprints in the model's provenance.
  void record_provenance();
  void initialise_head_priors(const std::set<std::string>& loaded);  // train.head_bias_init = "prior"
  StepStats train_step(Stream& s, double weight = 1.0);  // weight: the schedule's, scales the loss
  ValidationSummary validate(Stream& s);
  double validate_and_record(size_t task, int64_t iteration);  // validate, metrics.jsonl, log; the score
  void report_progress(int64_t iteration, ThroughputMeter& meter);
  void save_checkpoint();
  std::vector<NamedParameter> trunk_and(const std::vector<std::string>& head_prefixes) const;
  void write_metric(const nlohmann::json& record);

  TrainerParts parts_;
  const RunConfig& cfg_;
  Communicator& comm_;
  MultiTaskModel model_{nullptr};
  std::vector<Stream> streams_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<WarmupLinearSchedule> lr_;
  std::unique_ptr<TaskSchedule> schedule_;
  std::unique_ptr<GradientSynchronizer> sync_;
  std::map<std::string, std::string> fingerprints_;
  double base_lr_ = 0;
  TrainerState state_;
  PhaseTimes phases_;  // this rank's time split since the last progress report
  int64_t last_report_iteration_ = 0;
};

// A task's global batch split over `world` ranks and `accumulation` micro-batches per rank (the
// micro-batch); ConfigError naming tasks.<key>.batch_size (and train.gradient_accumulation) when
// it does not divide.
int64_t divide_batch(int64_t global, int world, const std::string& key, int accumulation = 1);

// The run's length: train.iterations when > 0, else the largest stream's epochs × batches per
// epoch (the released code's num_train_optimization_steps). Pairs are (epochs, batches/epoch).
int64_t run_iterations(int64_t configured, const std::vector<std::pair<int64_t, int64_t>>& epochs_batches);

}  // namespace vlmt

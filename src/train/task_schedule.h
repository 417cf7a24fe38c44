#pragma once
// Which task trains at which multi-task iteration, and when each task is validated.
//
// Iterations are numbered 1..total (Algorithm 1: `for i = 1 to MaxIter`). Within iteration i the
// trainer visits the active tasks in their configured order; task t takes one step when
// should_train(t, i). Task t is validated after iteration i when i mod n_t = 0, where n_t is the
// task's own number of training batches per epoch: that is, once every time enough iterations
// have passed for the task to see its whole training set (its "own epoch"), whether or not it
// was stopped meanwhile (as in Algorithm 1 and the released code). One multi-task epoch is
// max_t n_t iterations.
//
// Policies (train.schedule):
//   dsg              round robin + Dynamic Stop-and-Go per task (train/dsg.h)
//   vanilla          round robin: every task every iteration
//   curriculum       iterations 1..P: only G4 (verification) tasks; afterwards all tasks
//   anti_curriculum  iterations 1..P: only G1 (vocab-based VQA) tasks; afterwards all tasks
// P = train.curriculum_iterations, or 10% of the total when 0. (Paper section 5 / Table 6; the
// G3 phase mentioned in section 3.3 is not what Table 6 reports, see docs/TRAINING.md.)
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "train/dsg.h"

namespace vlmt {

class Communicator;
struct TrainConfig;

struct ScheduledTask {
  std::string key;             // task key, e.g. "vqa"
  int group = 0;               // 1..4 (G1..G4)
  int64_t batches_per_epoch = 0;  // n_t on this rank
};

// The largest n_t; throws ConfigError for an empty list or a task with n_t < 1.
int64_t iterations_per_epoch(const std::vector<ScheduledTask>& tasks);

class TaskSchedule {
 public:
  explicit TaskSchedule(std::vector<ScheduledTask> tasks);
  virtual ~TaskSchedule() = default;

  virtual std::string name() const = 0;
  // Whether task index `task` takes a step in (1-based) iteration `iteration`.
  virtual bool should_train(size_t task, int64_t iteration) const = 0;
  // Called on every rank after the task's validation with the global (all-reduced) score.
  // DSG updates its monitor and returns the event; other policies ignore it.
  virtual std::optional<DsgEvent> on_validation(size_t task, int64_t iteration, double score);
  // Short per-task label for progress lines: "go", "stop", "wait".
  virtual std::string state_label(size_t task, int64_t iteration) const;

  // Whether task `task` is validated after iteration `iteration` (iteration mod n_t = 0).
  bool should_validate(size_t task, int64_t iteration) const;
  // The task's epoch number completed at `iteration` (iteration / n_t).
  int64_t task_epoch(size_t task, int64_t iteration) const;
  int64_t iterations_per_epoch() const { return iterations_per_epoch_; }
  const std::vector<ScheduledTask>& tasks() const { return tasks_; }
  size_t task_index(const std::string& key) const;  // throws ConfigError for an unknown key

  // Checkpoint state: the policy name plus whatever the policy keeps (DSG monitors). Loading a
  // state saved by another policy or for other tasks throws CheckpointError.
  virtual std::string save_state() const;
  virtual void load_state(const std::string& blob);

  // With a communicator set, DSG decisions are checked across ranks (train/dsg_agreement.h) and
  // on_validation becomes a collective call.
  void set_communicator(Communicator* comm) { comm_ = comm; }

 protected:
  void check_task(size_t task) const;
  std::vector<ScheduledTask> tasks_;
  int64_t iterations_per_epoch_;
  Communicator* comm_ = nullptr;
};

class VanillaSchedule : public TaskSchedule {
 public:
  using TaskSchedule::TaskSchedule;
  std::string name() const override { return "vanilla"; }
  bool should_train(size_t task, int64_t iteration) const override;
};

class DsgSchedule : public TaskSchedule {
 public:
  DsgSchedule(std::vector<ScheduledTask> tasks, DsgOptions options);
  std::string name() const override { return "dsg"; }
  bool should_train(size_t task, int64_t iteration) const override;
  std::optional<DsgEvent> on_validation(size_t task, int64_t iteration, double score) override;
  std::string state_label(size_t task, int64_t iteration) const override;
  std::string save_state() const override;
  void load_state(const std::string& blob) override;
  const DsgMonitor& monitor(size_t task) const;

 private:
  std::vector<DsgMonitor> monitors_;
};

// Trains only the tasks of `first_group` during iterations 1..phase_iterations, then all tasks.
class CurriculumSchedule : public TaskSchedule {
 public:
  // Throws ConfigError when no task belongs to first_group or phase_iterations < 0.
  CurriculumSchedule(std::vector<ScheduledTask> tasks, std::string name, int first_group,
                     int64_t phase_iterations);
  std::string name() const override { return name_; }
  bool should_train(size_t task, int64_t iteration) const override;
  std::string state_label(size_t task, int64_t iteration) const override;
  int64_t phase_iterations() const { return phase_iterations_; }

 private:
  std::string name_;
  int first_group_;
  int64_t phase_iterations_;
};

// Builds the policy named by train.schedule; throws ConfigError for an unknown name.
std::unique_ptr<TaskSchedule> make_task_schedule(const TrainConfig& config,
                                                 std::vector<ScheduledTask> tasks,
                                                 int64_t total_iterations);

}  // namespace vlmt

#pragma once
// Which tasks train at each multi-task iteration and with what weight, and when each task is
// validated.
//
// Iterations are numbered 1..total (Algorithm 1: `for i = 1 to MaxIter`). Within iteration i the
// trainer visits the active tasks in their configured order; task t takes one step when
// weight(t, i) > 0, its loss multiplied by that weight. Task t is validated after iteration i
// when (i − 1) mod n_t = 0 and i > 1 (train_tasks.py: 0-based iterId ≠ 0 and iterId mod n_t = 0),
// where n_t is the task's own number of training batches per epoch: that is,
// once every time enough iterations have passed for the task to see its whole training set (its
// "own epoch"), whether or not it was stopped meanwhile (as in Algorithm 1 and the released
// code). One multi-task epoch is max_t n_t iterations.
//
// This is the interface only: the policies (train.schedule) and make_task_schedule, which builds
// one by name, are in train/schedule_registry.h; docs/TRAINING.md says how to add one.
#include <cstdint>
#include <string>
#include <vector>

#include "train/schedule_sink.h"
#include "train/scheduled_task.h"

namespace vlmt {

class Communicator;

// The largest n_t; throws ConfigError for an empty list or a task with n_t < 1.
int64_t iterations_per_epoch(const std::vector<ScheduledTask>& tasks);
// The task keys as "a, b, c", for messages.
std::string joined_keys(const std::vector<ScheduledTask>& tasks);

class TaskSchedule {
 public:
  explicit TaskSchedule(std::vector<ScheduledTask> tasks);
  virtual ~TaskSchedule() = default;

  virtual std::string name() const = 0;
  // The weight of task index `task`'s loss in (1-based) iteration `iteration`; 0 = the task
  // does not step. The trainer multiplies the loss only by a weight other than 1.
  virtual double weight(size_t task, int64_t iteration) const = 0;
  // Called on every rank after the task's validation with the global (all-reduced) score, in the
  // same order on every rank. A policy that reacts to scores (DSG) updates its state and reports
  // through `sink`; the default does nothing.
  virtual void on_validation(size_t task, int64_t iteration, double score, ScheduleSink& sink);
  // Called on every rank at the end of every iteration, after its validations.
  virtual void on_iteration_end(int64_t iteration, ScheduleSink& sink);
  // Short per-task label for progress lines: "go", "stop", "wait".
  virtual std::string state_label(size_t task, int64_t iteration) const;

  // Whether task `task` is validated after iteration `iteration` ((iteration − 1) mod n_t = 0, > 0).
  bool should_validate(size_t task, int64_t iteration) const;
  // The task's epoch number completed at `iteration` ((iteration − 1) / n_t).
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

}  // namespace vlmt

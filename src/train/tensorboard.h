#pragma once
// TensorBoard scalars of a run (train.tensorboard, on by default): rank 0 turns every
// metrics.jsonl record (train/progress.h) into scalars of an event file in the run directory,
// events.out.tfevents.<unix time>.<host> (core/event_file.h), step = the record's iteration,
// flushed after each record so a live `tensorboard --logdir` follows the run. Tags, as the
// released tbLogger names them where it has them (docs/TRAINING.md "TensorBoard"):
//   train record     train/<task>_loss, train/<task>_score (training batches), train/<task>_<loss part>
//   val record       val/<task>_loss, val/<task>_score, val/<task>_<metric>, val/<task>_<loss part>
//   progress record  train/lr, train/samples_per_s, time/<phase> (s/iteration), dsg/<task>_go (1 go, 0 stop or wait)
//   dsg record       val/<task>_early_stop (1 = stopped after this validation), dsg/<task>_best
//   dsg_reset        dsg/reset_epoch
// A task key in a tag has "+" spelt "plus" (refcocoplus, as released) and any other character
// outside [A-Za-z0-9_./-] as "_".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/event_file.h"

namespace vlmt {

// The scalars a metrics.jsonl record carries (none for run_info and unknown kinds); null numbers
// are left out.
std::vector<tfevents::Scalar> tensorboard_scalars(const nlohmann::json& record);
std::string tensorboard_task_name(const std::string& task);

class TensorBoardLog {
 public:
  explicit TensorBoardLog(std::string run_dir);
  // One metrics.jsonl record. The run_info record a run starts with gives the iteration it starts
  // from: every event file of the run directory is cut to the steps up to it (a run resumed from
  // an earlier checkpoint than its last event rewrites those steps, and must not show them twice).
  void record(const nlohmann::json& record);

 private:
  std::string run_dir_;
  std::unique_ptr<tfevents::EventFileWriter> file_;  // opened at the first scalar
};

}  // namespace vlmt

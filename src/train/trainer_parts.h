#pragma once
// How a stage run builds its Trainer's parts (train/trainer.h) from its context
// (train/stage_context.h): the tasks it trains, their datasets from the data root, the
// communicators, checkpoints in the run directory, metrics.jsonl and TensorBoard. Its own unit so
// that the trainer knows nothing of stages: stage.cpp and run_plan.cpp use this.
#include <utility>
#include <vector>

#include "config/run_config.h"
#include "train/trainer.h"

namespace vlmt {

struct StageContext;  // train/stage_context.h
struct TaskSpec;      // catalog/task_spec.h

// The tasks a stage trains with the batch, epochs and LR of each: pretraining trains the captions
// corpus (batch, epochs and LR from train.*, the LR 1e-4 by default as train_concap.py); the
// other stages one stream per active task (tasks.<key>).
std::vector<std::pair<const TaskSpec*, TaskHyper>> training_tasks(const RunConfig& cfg);

// The parts of a stage run: its streams from the data root (pretraining: the captions corpus;
// otherwise one per active task), the stage's communicators and device, checkpoints in the run
// directory and metrics.jsonl there with its TensorBoard event files (rank 0, train/tensorboard.h).
TrainerParts assemble_trainer_parts(StageContext& ctx);

}  // namespace vlmt

#pragma once
// --plan: what a training run will do and need, without training and without writing anything:
// parameters, per task items / batches / steps, the run's length and warm-up, memory per rank
// from the shapes (train/memory_estimate.h) and time from one measured step per task kind.
// Items come from the data, or without data from estimates on the command line.
#include "train/plan_options.h"

namespace vlmt {

struct StageContext;  // train/stage_context.h

// Prints the plan of ctx's run on rank 0; returns 0.
int run_plan(StageContext& ctx, const PlanOptions& options);

}  // namespace vlmt

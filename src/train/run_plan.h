#pragma once
// --plan: what a training run will do and need, without training and without writing anything:
// parameters, per task items / batches / steps, the run's length and warm-up, memory per rank
// from the shapes (train/memory_estimate.h) and time from one measured step per task kind.
// Items come from the data, or without data from estimates on the command line.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "catalog/task_catalog.h"

namespace vlmt {

struct StageContext;  // train/stage.h

struct PlanOptions {
  int ranks = 0;                          // ranks to plan for (0: this launch's)
  int64_t items_per_task = 0;             // > 0: every task's train items, no data read
  std::map<std::string, int64_t> items;   // task → train items (beats items_per_task)
};

// "vqa=443757,gqa=943000" → {{"vqa", 443757}, {"gqa", 943000}}; ConfigError naming the entry.
std::map<std::string, int64_t> parse_item_counts(const std::string& text, const TaskCatalog& catalog);

// The run's length: train.iterations when > 0, else the largest stream's epochs × batches per
// epoch (the released code's num_train_optimization_steps). Pairs are (epochs, batches/epoch).
int64_t run_iterations(int64_t configured, const std::vector<std::pair<int64_t, int64_t>>& epochs_batches);

// Prints the plan of ctx's run on rank 0; returns 0.
int run_plan(StageContext& ctx, const PlanOptions& options);

}  // namespace vlmt

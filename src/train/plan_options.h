#pragma once
// What --plan is asked (--ranks, --items-per-task, --items). Its own header because the stage
// context holds these options (train/stage_context.h) while the plan (train/run_plan.h) takes the
// context: both include this, and neither includes the other.
#include <cstdint>
#include <map>
#include <string>

#include "catalog/task_catalog.h"

namespace vlmt {

struct PlanOptions {
  int ranks = 0;                          // ranks to plan for (0: this launch's)
  int64_t items_per_task = 0;             // > 0: every task's train items, no data read
  std::map<std::string, int64_t> items;   // task → train items (beats items_per_task)
};

// "vqa=443757,gqa=943000" → {{"vqa", 443757}, {"gqa", 943000}}; ConfigError naming the entry
// (a key not in the run's catalogue among them).
std::map<std::string, int64_t> parse_item_counts(const std::string& text, const TaskCatalog& catalog);

}  // namespace vlmt

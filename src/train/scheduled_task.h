#pragma once
// One active task as a task schedule sees it. Its own header so that the saved-state helpers
// (train/schedule_state.h) need not include the schedule interface that uses them.
#include <cstdint>
#include <string>

namespace vlmt {

struct ScheduledTask {
  std::string key;             // task key, e.g. "vqa"
  int group = 0;               // 1..4 (G1..G4)
  int64_t batches_per_epoch = 0;  // n_t on this rank
};

}  // namespace vlmt

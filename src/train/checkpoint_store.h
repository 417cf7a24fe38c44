#pragma once
// Where a Trainer's checkpoints go and come from: HDF5 files in the run directory for the stages
// (ckpt/checkpoint.h), memory in unit tests. write() is called on rank 0 only.
#include <memory>
#include <optional>
#include <string>

#include "ckpt/checkpoint.h"

namespace vlmt {

struct StoredCheckpoint {
  std::string where;  // file path, or a name (for messages)
  ckpt::CheckpointData data;
};
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  virtual std::optional<StoredCheckpoint> latest() = 0;
  // Returns where it went (for the log).
  virtual std::string write(const ckpt::CheckpointData& data) = 0;
};
std::shared_ptr<CheckpointStore> run_dir_checkpoints(const std::string& run_dir);
std::shared_ptr<CheckpointStore> memory_checkpoints();

}  // namespace vlmt

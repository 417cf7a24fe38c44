#pragma once
// Complete training checkpoints: one HDF5 file holding everything needed to resume
// (docs/CHECKPOINTS.md). Layout:
//   /                attrs format_version (int64), stage (string), kind = "checkpoint"
//   /params/<name>   model parameters and buffers (ckpt/tensor_file.h layout)
//   /optim/<name>    optimiser state tensors (e.g. "<param>.exp_avg", "step"), same layout
//   /rng/<name>      generator states as uint8 tensors
//   /trainer_state   uint8 dataset: Boost.Serialization blob (ckpt/blob.h), with crc32
//   /config_toml     uint8 dataset: the resolved TOML config, with crc32
//   /fingerprints    uint8 dataset: JSON object string -> string, with crc32
//   /answers/<head>  the heads' answer vocabularies (ckpt/head_answers.h), when the run had any
// Every dataset carries a crc32 that read_checkpoint verifies.
#include <map>
#include <optional>
#include <string>

#include "ckpt/head_answers.h"
#include "ckpt/tensor_file.h"

namespace vlmt::ckpt {

inline constexpr int kCheckpointFormatVersion = 1;

struct CheckpointData {
  std::string stage;
  int format_version = kCheckpointFormatVersion;
  std::string config_toml;
  std::map<std::string, std::string> fingerprints;
  HeadAnswers answers;
  NamedTensors params;
  NamedTensors optim;
  std::string trainer_state;
  std::map<std::string, torch::Tensor> rng;
};

// Writes <dir>/<name>.h5.tmp, closes and fsyncs it, renames an existing <dir>/<name>.h5 to
// <dir>/<name>_prev.h5, then renames the tmp file to <dir>/<name>.h5 and fsyncs the directory.
// A crash at any point leaves either the new file, or the previous one (as <name>.h5 or
// <name>_prev.h5). Returns the final path. The directory is created if missing.
std::string write_checkpoint(const std::string& dir, const std::string& name,
                             const CheckpointData& data);

// Reads and verifies every checksum and the format version; CheckpointError otherwise.
CheckpointData read_checkpoint(const std::string& path);

// The checkpoint to resume from in `dir`: latest.h5 if it reads and verifies, else
// latest_prev.h5 (with a warning), else nothing. Throws CheckpointError if both exist but
// neither is usable (resuming from nothing would silently restart training).
std::optional<std::string> find_latest(const std::string& dir);

}  // namespace vlmt::ckpt

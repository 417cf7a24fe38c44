#pragma once
// What ckpt_info prints first about a file: for a stage checkpoint its stage, progress, rank
// count, tasks with their schedule (DSG) states, feature fingerprints and the stored config's
// hash; for a bare parameter file its size. Read from the file alone, no data needed.
#include <string>

#include "ckpt/checkpoint.h"
#include "ckpt/tensor_file.h"

namespace vlmt {

std::string summarize_checkpoint(const std::string& path, const ckpt::CheckpointData& data);
std::string summarize_parameters(const std::string& path, const ckpt::NamedTensors& tensors);

}  // namespace vlmt

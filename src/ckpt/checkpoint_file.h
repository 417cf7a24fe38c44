#pragma once
// Telling a training checkpoint (ckpt/checkpoint.h) from a parameter file (ckpt/tensor_file.h)
// by what the file is, not by whether it reads: a damaged checkpoint is still a checkpoint.
#include <string>

namespace vlmt::ckpt {

// Whether `path` is laid out as a training checkpoint (root attribute kind = "checkpoint", or a
// /trainer_state dataset), readable or damaged. CheckpointError if it is no HDF5 file.
bool is_checkpoint_file(const std::string& path);

}  // namespace vlmt::ckpt

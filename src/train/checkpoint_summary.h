#pragma once
// What ckpt_info prints first about a file: for a stage checkpoint its stage, progress, rank
// count, tasks with their schedule (DSG) states, feature fingerprints and the stored config's
// hash; for a bare parameter file its size. Read from the file alone, no data needed.
#include <ostream>
#include <string>

#include "ckpt/checkpoint.h"
#include "ckpt/tensor_file.h"

namespace vlmt {

std::string summarize_checkpoint(const std::string& path, const ckpt::CheckpointData& data);
std::string summarize_parameters(const std::string& path, const ckpt::NamedTensors& tensors);

struct CheckpointInfoOptions {
  bool tensors = false;  // also list every tensor: "name dtype shape"
  bool config = false;   // also print the run configuration a stage checkpoint stores
  bool quiet = false;    // print only the verification line
};
// ckpt_info's output for a stage checkpoint or parameter file: the summary above, what the
// options add, and a last line saying every tensor's checksum was verified. Throws
// CheckpointError naming the file and tensor when one is not intact, ConfigError for `config` on
// a parameter file (it stores no config).
void print_checkpoint_info(const std::string& path, const CheckpointInfoOptions& options, std::ostream& out);

}  // namespace vlmt

#pragma once
// Saving and loading a module's parameters and buffers in the vlmt parameter file
// (ckpt/tensor_file.h). Names are the module's own dotted names, which for the ViLBERT model are
// the official state_dict names; a tensor registered under two names (the tied word embedding /
// masked-word decoder) is stored under both, as the official state_dict does.
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "ckpt/tensor_file.h"

namespace vlmt::ckpt {

struct ShapeMismatch {
  std::string name;
  std::vector<int64_t> module_shape;
  std::vector<int64_t> file_shape;
};

struct LoadReport {
  std::string path;
  std::vector<std::string> loaded;      // copied into the module
  std::vector<std::string> missing;     // in the module, not in the file (left as they were)
  std::vector<std::string> unexpected;  // in the file (after renaming), not in the module
  std::vector<ShapeMismatch> mismatched;  // in both, with different shapes (not copied)
  std::vector<std::string> dropped;     // file names the rename hook mapped to "" (ignored)

  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // Multi-line human-readable report; lists every problem name.
  std::string summary() const;
};

// Maps a name found in the file to the module's name; return "" to drop the tensor.
using NameMap = std::function<std::string(const std::string&)>;

// Parameters first, then buffers, under their named_parameters()/named_buffers() names.
NamedTensors module_tensors(const torch::nn::Module& module);

void save_parameters(const torch::nn::Module& module, const std::string& path);

// Copies the file's tensors into the module's parameters/buffers (dtype converted to the
// module's, device kept). Unless allow_partial, any missing/unexpected/mis-shaped name throws
// CheckpointError listing them and nothing is copied. The report is logged on rank 0.
LoadReport load_parameters(torch::nn::Module& module, const std::string& path,
                           bool allow_partial, const NameMap& rename = nullptr);

// Same, from tensors already in memory (e.g. a safetensors import); `source` names them in
// messages.
LoadReport load_parameters(torch::nn::Module& module, const NamedTensors& tensors,
                           const std::string& source, bool allow_partial,
                           const NameMap& rename = nullptr);

}  // namespace vlmt::ckpt

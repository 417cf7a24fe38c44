#pragma once
// HDF5 files of named tensors: the vlmt parameter layout (docs/CHECKPOINTS.md).
//
//   /params/<full.dotted.name>   one dataset per tensor, a flat group (dots are plain characters
//                                in HDF5 names, so the official state_dict names are used as-is)
//     attr dtype  "float32" | "float16" | "bfloat16" | "float64" | "int64" | "int32" | "uint8" | "bool"
//     attr shape  int64[rank]    (empty for a 0-dim tensor)
//     attr crc32  uint32         CRC-32 of the tensor's raw little-endian bytes (ckpt/crc32.h)
//
// bfloat16 has no HDF5 type and is stored as uint16 bit patterns; float16 uses an IEEE half
// type that h5py reads as numpy float16. Every checksum is verified on load.
#include <hdf5.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vlmt::ckpt {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

inline constexpr const char* kParamsGroup = "params";
inline constexpr int kParamFileFormatVersion = 1;

// Writes each tensor as a dataset of `group` (tensors are copied to contiguous CPU memory first).
// `context` (usually the file path) prefixes every error message. Names must be non-empty,
// unique, without '/', and not "." .
void write_tensors(hid_t group, const NamedTensors& tensors, const std::string& context);
// Reads every dataset of `group`, verifying shape and checksum; CheckpointError names the
// context and the tensor on any mismatch.
NamedTensors read_tensors(hid_t group, const std::string& context);
// Reads and checks one dataset (used for single blobs such as /trainer_state).
torch::Tensor read_tensor(hid_t parent, const std::string& name, const std::string& context);

// File forms: a parameter file with the tensors under /params and root attributes
// `format_version` and `kind` = "parameters". Writing goes to <path>.tmp, then renames it over
// the file. `answers`: the heads' answer vocabularies stored beside them (ckpt/head_answers.h).
void write_tensors(const std::string& path, const NamedTensors& tensors,
                   const std::map<std::string, std::vector<std::string>>& answers = {});
NamedTensors read_tensors(const std::string& path);

// Name of a dtype in the `dtype` attribute; throws CheckpointError for unsupported dtypes.
std::string dtype_name(torch::ScalarType type);

}  // namespace vlmt::ckpt

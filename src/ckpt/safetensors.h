#pragma once
// The safetensors format (Hugging Face): 8-byte little-endian header length N, N bytes of JSON
// {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {string: string}}, then the raw little-endian tensor bytes, offsets relative
// to the end of the header. Supported dtypes: F32, F16, BF16, F64, I64.
#include <map>
#include <string>

#include "ckpt/tensor_file.h"

namespace vlmt::ckpt {

struct SafetensorsFile {
  NamedTensors tensors;                         // in data-offset order
  std::map<std::string, std::string> metadata;  // __metadata__, if any
};

// Throws CheckpointError naming the file (and tensor) for a missing or truncated file, bad
// JSON, an unsupported dtype, or offsets that are out of range or disagree with the shape.
SafetensorsFile read_safetensors(const std::string& path);
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source);

// Serialises tensors (supported dtypes only) into the format; used by tests and tools.
std::string serialize_safetensors(const NamedTensors& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace vlmt::ckpt

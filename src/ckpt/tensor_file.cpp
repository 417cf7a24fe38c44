#include "ckpt/tensor_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "ckpt/crc32.h"
#include "ckpt/head_answers.h"
#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"

namespace vlmt::ckpt {
namespace {

struct DtypeInfo {
  torch::ScalarType type;
  const char* name;
};

// The dtypes a checkpoint may hold. bfloat16 and bool travel as plain unsigned integers; the
// `dtype` attribute restores them.
const DtypeInfo kDtypes[] = {
    {torch::kFloat32, "float32"}, {torch::kFloat16, "float16"}, {torch::kBFloat16, "bfloat16"},
    {torch::kFloat64, "float64"}, {torch::kInt64, "int64"},     {torch::kInt32, "int32"},
    {torch::kUInt8, "uint8"},     {torch::kBool, "bool"},
};

torch::ScalarType dtype_from_name(const std::string& name, const std::string& context) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  throw CheckpointError(cat(context, ": unsupported dtype '", name, "'"));
}

// Type used both in the file and in memory (they are identical on little-endian hosts; the
// standard little-endian file types keep the files portable to big-endian readers).
h5::Handle hdf5_type(torch::ScalarType type) {
  auto copy = [](hid_t t) { return h5::Handle(H5Tcopy(t), H5Tclose); };
  switch (type) {
    case torch::kFloat32: return copy(H5T_IEEE_F32LE);
    case torch::kFloat16: return h5::make_half_type();
    case torch::kBFloat16: return copy(H5T_STD_U16LE);
    case torch::kFloat64: return copy(H5T_IEEE_F64LE);
    case torch::kInt64: return copy(H5T_STD_I64LE);
    case torch::kInt32: return copy(H5T_STD_I32LE);
    case torch::kUInt8:
    case torch::kBool: return copy(H5T_STD_U8LE);
    default: break;
  }
  throw CheckpointError(cat("unsupported tensor dtype ", type));
}

void check_name(const std::string& name, const std::string& context) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos) {
    throw CheckpointError(cat(context, ": invalid tensor name '", name,
                              "' (must be non-empty, without '/')"));
  }
}

void write_one(hid_t group, const std::string& name, const torch::Tensor& tensor,
               const std::string& context) {
  std::string where = cat(context, ": tensor ", name);
  if (!tensor.defined()) throw CheckpointError(cat(where, " is undefined"));
  torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
  h5::Handle type = hdf5_type(cpu.scalar_type());
  std::vector<hsize_t> dims(cpu.sizes().begin(), cpu.sizes().end());
  h5::Handle space = dims.empty()
      ? h5::check(H5Screate(H5S_SCALAR), H5Sclose, where)
      : h5::check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                  where);
  h5::Handle dataset = h5::check(H5Dcreate2(group, name.c_str(), type.get(), space.get(),
                                            H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                 H5Dclose, cat(where, ": cannot create dataset"));
  size_t bytes = cpu.numel() * cpu.element_size();
  if (bytes > 0) {
    h5::check_status(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              cpu.data_ptr()),
                     cat(where, ": cannot write data"));  // h5::check_status adds the system's reason
  }
  h5::write_string_attr(dataset.get(), "dtype", dtype_name(cpu.scalar_type()));
  h5::write_int64_attr(dataset.get(), "shape", cpu.sizes().vec());
  h5::write_uint32_attr(dataset.get(), "crc32", crc32(cpu.data_ptr(), bytes));
}

}  // namespace

std::string dtype_name(torch::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.type) return d.name;
  }
  throw CheckpointError(cat("unsupported tensor dtype ", type, " (checkpoints hold ",
                            "float32/16, bfloat16, float64, int64/32, uint8, bool)"));
}

void write_tensors(hid_t group, const NamedTensors& tensors, const std::string& context) {
  h5::QuietErrors quiet;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    check_name(name, context);
    if (!seen.insert(name).second) {
      throw CheckpointError(cat(context, ": tensor name '", name, "' given twice"));
    }
    write_one(group, name, tensor, context);
  }
}

torch::Tensor read_tensor(hid_t parent, const std::string& name, const std::string& context) {
  h5::QuietErrors quiet;
  std::string where = cat(context, ": tensor ", name);
  if (!h5::has_link(parent, name)) throw CheckpointError(cat(where, " is missing"));
  h5::Handle dataset = h5::check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose,
                                 cat(where, ": cannot open dataset"));
  torch::ScalarType type = dtype_from_name(h5::read_string_attr(dataset.get(), "dtype", where),
                                           where);
  std::vector<int64_t> shape = h5::read_int64_attr(dataset.get(), "shape", where);
  uint32_t expected_crc = h5::read_uint32_attr(dataset.get(), "crc32", where);

  h5::Handle space = h5::check(H5Dget_space(dataset.get()), H5Sclose, where);
  hssize_t points = H5Sget_simple_extent_npoints(space.get());
  torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (points != tensor.numel()) {
    throw CheckpointError(cat(where, ": dataset holds ", points, " elements but its shape ",
                              "attribute ", tensor.sizes(), " says ", tensor.numel()));
  }
  size_t bytes = tensor.numel() * tensor.element_size();
  if (bytes > 0) {
    h5::Handle mem_type = hdf5_type(type);
    h5::check_status(H5Dread(dataset.get(), mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                             tensor.data_ptr()),
                     cat(where, ": cannot read data (file truncated or damaged)"));
  }
  uint32_t actual_crc = crc32(tensor.data_ptr(), bytes);
  if (actual_crc != expected_crc) {
    throw CheckpointError(cat(where, ": checksum mismatch (stored crc32 ", std::hex,
                              expected_crc, ", data gives ", actual_crc, "); the file is corrupt"));
  }
  return tensor;
}

NamedTensors read_tensors(hid_t group, const std::string& context) {
  NamedTensors tensors;
  for (const std::string& name : h5::child_names(group, context)) {
    tensors.emplace_back(name, read_tensor(group, name, context));
  }
  return tensors;
}

void write_tensors(const std::string& path, const NamedTensors& tensors,
                   const std::map<std::string, std::vector<std::string>>& answers) {
  // Written beside the target and renamed into place, so a killed write never leaves a
  // half-written file under the final name.
  const std::string tmp = path + ".tmp";
  try {
    h5::Handle file = h5::create_file(tmp);
    h5::write_string_attr(file.get(), "kind", "parameters");
    h5::write_int64_attr(file.get(), "format_version", {kParamFileFormatVersion});
    {
      h5::Handle group = h5::create_group(file.get(), kParamsGroup, path);
      write_tensors(group.get(), tensors, path);
    }
    write_head_answers(file.get(), answers, path);
    // A failed close leaves its errors on HDF5's stack for check_status to read the reason from.
    h5::check_status(file.close() ? 0 : -1, cat(path, ": closing the file failed"));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw CheckpointError(cat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  }
}

NamedTensors read_tensors(const std::string& path) {
  h5::Handle file = h5::open_file_readonly(path);
  h5::Handle group = h5::open_group(file.get(), kParamsGroup, path);
  return read_tensors(group.get(), path);
}

}  // namespace vlmt::ckpt

#include "ckpt/checkpoint.h"
#include "ckpt/checkpoint_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"

namespace vlmt::ckpt {
namespace {

namespace fs = std::filesystem;

torch::Tensor bytes_tensor(const std::string& bytes) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

std::string tensor_bytes(const torch::Tensor& t, const std::string& where) {
  if (t.scalar_type() != torch::kUInt8 || t.dim() != 1) {
    throw CheckpointError(cat(where, " must be a 1-D uint8 dataset"));
  }
  return std::string(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()));
}

// fsync of a file or directory; data renamed into place must be on disk before the rename is.
void sync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) throw CheckpointError(cat(path, ": cannot open for fsync: ", std::strerror(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw CheckpointError(cat(path, ": fsync failed: ", std::strerror(err)));
}

void rename_or_throw(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    throw CheckpointError(cat("cannot rename ", from, " to ", to, ": ", std::strerror(errno)));
  }
}

// The bytes of everything the checkpoint stores (its tensors, blobs and answer lists), a lower
// bound of its file size: what a failed write says it needed.
uint64_t payload_bytes(const CheckpointData& data) {
  uint64_t bytes = data.trainer_state.size() + data.config_toml.size();
  for (const auto* tensors : {&data.params, &data.optim})
    for (const auto& [name, t] : *tensors) bytes += t.numel() * t.element_size();
  for (const auto& [name, t] : data.rng) bytes += t.numel() * t.element_size();
  for (const auto& [key, value] : data.fingerprints) bytes += key.size() + value.size();
  for (const auto& [head, answers] : data.answers)
    for (const auto& a : answers) bytes += a.size();
  return bytes;
}

void write_file(const std::string& path, const CheckpointData& data) {
  h5::QuietErrors quiet;  // failures become one CheckpointError with the system's reason
  h5::Handle file = h5::create_file(path);
  h5::write_string_attr(file.get(), "kind", "checkpoint");
  h5::write_int64_attr(file.get(), "format_version", {data.format_version});
  h5::write_string_attr(file.get(), "stage", data.stage);
  {
    h5::Handle params = h5::create_group(file.get(), "params", path);
    write_tensors(params.get(), data.params, path);
    h5::Handle optim = h5::create_group(file.get(), "optim", path);
    write_tensors(optim.get(), data.optim, path);
    h5::Handle rng = h5::create_group(file.get(), "rng", path);
    write_tensors(rng.get(), NamedTensors(data.rng.begin(), data.rng.end()), path);
  }
  nlohmann::json fingerprints(data.fingerprints);
  write_tensors(file.get(),
                {{"trainer_state", bytes_tensor(data.trainer_state)},
                 {"config_toml", bytes_tensor(data.config_toml)},
                 {"fingerprints", bytes_tensor(fingerprints.dump())}},
                path);
  write_head_answers(file.get(), data.answers, path);
  h5::check_status(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), cat(path, ": flush failed"));
  // A failed close leaves its errors on HDF5's stack for check_status to read the reason from.
  h5::check_status(file.close() ? 0 : -1, cat(path, ": closing the file failed"));
}

}  // namespace

// A failed write (e.g. a full disk) is a CheckpointError with the system's reason and the bytes
// the checkpoint needs; its tmp file is removed and the existing checkpoints stay as they were.
std::string write_checkpoint(const std::string& dir, const std::string& name,
                             const CheckpointData& data) {
  if (name.empty() || name.find('/') != std::string::npos) {
    throw CheckpointError(cat("invalid checkpoint name '", name, "'"));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw CheckpointError(cat(dir, ": cannot create checkpoint directory: ", ec.message()));
  const std::string final_path = (fs::path(dir) / (name + ".h5")).string();
  const std::string tmp_path = final_path + ".tmp";
  const std::string prev_path = (fs::path(dir) / (name + "_prev.h5")).string();
  try {
    write_file(tmp_path, data);
    sync_path(tmp_path, false);
  } catch (const CheckpointError& e) {
    std::remove(tmp_path.c_str());  // a half-written tmp is never resumed from; do not leave it
    const uint64_t bytes = payload_bytes(data);
    throw CheckpointError(cat(e.what(), " (the checkpoint needs at least ", bytes, " bytes, ",
                              static_cast<double>(bytes) / 1e6, " MB, in ", dir, ")"));
  } catch (...) {
    std::remove(tmp_path.c_str());
    throw;
  }
  if (fs::exists(final_path)) rename_or_throw(final_path, prev_path);
  rename_or_throw(tmp_path, final_path);
  sync_path(dir, true);
  return final_path;
}

CheckpointData read_checkpoint(const std::string& path) {
  h5::Handle file = h5::open_file_readonly(path);
  CheckpointData data;
  if (!h5::has_attr(file.get(), "format_version")) {
    throw CheckpointError(cat(path, ": not a vlmt checkpoint (no format_version attribute)"));
  }
  auto version = h5::read_int64_attr(file.get(), "format_version", path);
  if (version.size() != 1 || version[0] != kCheckpointFormatVersion) {
    throw CheckpointError(cat(path, ": checkpoint format version ",
                              version.empty() ? -1 : version[0], " but this build reads version ",
                              kCheckpointFormatVersion));
  }
  data.format_version = static_cast<int>(version[0]);
  std::string kind = h5::read_string_attr(file.get(), "kind", path);
  if (kind != "checkpoint") {
    throw CheckpointError(cat(path, ": is a '", kind, "' file, not a training checkpoint"));
  }
  data.stage = h5::read_string_attr(file.get(), "stage", path);
  {
    h5::Handle params = h5::open_group(file.get(), "params", path);
    data.params = read_tensors(params.get(), path);
    h5::Handle optim = h5::open_group(file.get(), "optim", path);
    data.optim = read_tensors(optim.get(), path);
    h5::Handle rng = h5::open_group(file.get(), "rng", path);
    for (auto& [name, t] : read_tensors(rng.get(), path)) data.rng.emplace(name, t);
  }
  data.trainer_state = tensor_bytes(read_tensor(file.get(), "trainer_state", path),
                                    cat(path, ": /trainer_state"));
  data.config_toml = tensor_bytes(read_tensor(file.get(), "config_toml", path),
                                  cat(path, ": /config_toml"));
  std::string fingerprints = tensor_bytes(read_tensor(file.get(), "fingerprints", path),
                                          cat(path, ": /fingerprints"));
  try {
    data.fingerprints = nlohmann::json::parse(fingerprints).get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(cat(path, ": /fingerprints is not a JSON string map: ", e.what()));
  }
  data.answers = read_head_answers(file.get(), path);
  return data;
}

bool is_checkpoint_file(const std::string& path) {
  h5::Handle file = h5::open_file_readonly(path);
  if (h5::has_attr(file.get(), "kind") && h5::read_string_attr(file.get(), "kind", path) == "checkpoint") return true;
  return h5::has_link(file.get(), "trainer_state");
}

std::optional<std::string> find_latest(const std::string& dir) {
  const std::string latest = (fs::path(dir) / "latest.h5").string();
  const std::string prev = (fs::path(dir) / "latest_prev.h5").string();
  std::string latest_problem;
  if (fs::exists(latest)) {
    try {
      read_checkpoint(latest);
      return latest;
    } catch (const CheckpointError& e) {
      latest_problem = e.what();
    }
  }
  if (!fs::exists(prev)) {
    if (latest_problem.empty()) return std::nullopt;
    throw CheckpointError(cat("cannot resume from ", dir, ": ", latest_problem,
                              "; and there is no ", prev));
  }
  try {
    read_checkpoint(prev);
  } catch (const CheckpointError& e) {
    throw CheckpointError(cat("cannot resume from ", dir, ": ",
                              latest_problem.empty() ? latest + " is missing" : latest_problem,
                              "; and the previous checkpoint is unusable too: ", e.what()));
  }
  log::warn(cat("resuming from the previous checkpoint ", prev, " because ",
                latest_problem.empty() ? latest + " is missing (killed between renames)"
                                       : latest_problem));
  return prev;
}

}  // namespace vlmt::ckpt

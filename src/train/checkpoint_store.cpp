#include "train/checkpoint_store.h"

#include <filesystem>

#include "core/error.h"
#include "core/log.h"

namespace fs = std::filesystem;

namespace vlmt {
namespace {

// <run dir>/latest.h5, written atomically with the previous one kept (ckpt/checkpoint.h).
class RunDirCheckpoints : public CheckpointStore {
 public:
  explicit RunDirCheckpoints(std::string dir) : dir_(std::move(dir)) {}
  std::optional<StoredCheckpoint> latest() override {
    auto path = ckpt::find_latest(dir_);
    if (!path) return std::nullopt;
    latest_unusable_ = fs::path(*path) != latest_path() && fs::exists(latest_path());
    return StoredCheckpoint{*path, ckpt::read_checkpoint(*path)};
  }
  std::string write(const ckpt::CheckpointData& data) override {
    // A run resumed from latest_prev.h5 because latest.h5 was unusable: the first write would
    // rotate the unusable file into latest_prev.h5 over the sound one, leaving no fallback. Move
    // it aside (kept for inspection) so the sound one stays the previous checkpoint.
    if (latest_unusable_ && fs::exists(latest_path())) {
      const std::string aside = latest_path().string() + ".unusable";
      std::error_code ec;
      fs::rename(latest_path(), aside, ec);
      if (ec) throw CheckpointError(cat("cannot move the unusable ", latest_path().string(), " to ", aside, ": ", ec.message()));
      log::warn(cat("moved the unusable ", latest_path().string(), " to ", aside, "; ", dir_,
                    "/latest_prev.h5 stays the previous checkpoint"));
    }
    latest_unusable_ = false;
    return ckpt::write_checkpoint(dir_, "latest", data);
  }

 private:
  fs::path latest_path() const { return fs::path(dir_) / "latest.h5"; }
  std::string dir_;
  bool latest_unusable_ = false;  // latest() fell back to latest_prev.h5 although latest.h5 exists
};

// The last checkpoint written, kept in memory (tensors cloned: training goes on in place).
class MemoryCheckpoints : public CheckpointStore {
 public:
  std::optional<StoredCheckpoint> latest() override {
    if (!saved_) return std::nullopt;
    return StoredCheckpoint{"memory", *saved_};
  }
  std::string write(const ckpt::CheckpointData& data) override {
    ckpt::CheckpointData copy = data;
    for (auto* tensors : {&copy.params, &copy.optim})
      for (auto& [name, t] : *tensors) t = t.clone();
    for (auto& [name, t] : copy.rng) t = t.clone();
    saved_ = std::move(copy);
    return "memory";
  }

 private:
  std::optional<ckpt::CheckpointData> saved_;
};

}  // namespace

std::shared_ptr<CheckpointStore> run_dir_checkpoints(const std::string& run_dir) {
  return std::make_shared<RunDirCheckpoints>(run_dir);
}

std::shared_ptr<CheckpointStore> memory_checkpoints() { return std::make_shared<MemoryCheckpoints>(); }

}  // namespace vlmt

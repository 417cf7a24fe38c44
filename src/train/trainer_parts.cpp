// The parts a Trainer is assembled from: checkpoint stores and the stage runs' assembly.
#include <filesystem>

#include "catalog/task_catalog.h"
#include "ckpt/checkpoint.h"
#include "core/error.h"
#include "core/log.h"
#include "tasks/task_data.h"
#include "train/tensorboard.h"
#include "train/trainer.h"

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

std::vector<std::pair<const TaskSpec*, TaskHyper>> training_tasks(const RunConfig& cfg) {
  std::vector<std::pair<const TaskSpec*, TaskHyper>> out;
  if (cfg.train.stage == "pretrain") {
    const TaskSpec& spec = cfg.catalog.pretraining();
    TaskHyper hyper;
    hyper.batch_size = cfg.train.batch_size;
    hyper.epochs = cfg.train.epochs;
    hyper.lr = cfg.train.lr > 0 ? cfg.train.lr : 1e-4;
    hyper.val_split = spec.val_split;
    hyper.max_text = spec.max_text;
    hyper.max_regions = spec.max_regions;
    out.emplace_back(&spec, hyper);
    return out;
  }
  for (const auto& key : cfg.tasks.active) out.emplace_back(&cfg.catalog.by_key(key), cfg.tasks.of(key));
  return out;
}

TrainerParts assemble_trainer_parts(StageContext& ctx) {
  const RunConfig& cfg = ctx.config;
  TrainerParts parts;
  parts.config = cfg;
  parts.run_name = fs::path(ctx.run_dir).filename().string();
  parts.device = ctx.device;
  parts.control = ctx.control_comm.get();
  parts.grad = ctx.grad_comm.get();
  parts.checkpoints = run_dir_checkpoints(ctx.run_dir);
  if (ctx.runtime == nullptr || ctx.runtime->is_root()) {
    auto writer = std::make_shared<JsonlWriter>((fs::path(ctx.run_dir) / "metrics.jsonl").string());
    std::shared_ptr<TensorBoardLog> board;
    if (cfg.train.tensorboard) board = std::make_shared<TensorBoardLog>(ctx.run_dir);
    parts.metrics = [writer, board](const nlohmann::json& record) {
      writer->write(record);
      if (board) board->record(record);
    };
  }
  for (const auto& [spec_ptr, hyper] : training_tasks(cfg)) {
    const TaskSpec& spec = *spec_ptr;
    TrainingStream s;
    s.spec = &spec;
    s.val = make_task_dataset(spec, hyper.val_split, cfg.data, hyper, cfg.model, cfg.train);
    s.train = make_task_dataset(spec, "train", cfg.data, hyper, cfg.model, cfg.train);
    s.global_batch = hyper.batch_size;
    s.epochs = hyper.epochs;
    s.lr = hyper.lr;
    parts.streams.push_back(std::move(s));
  }
  // One stream has nobody to share iterations with: pretraining runs every iteration.
  if (cfg.train.stage == "pretrain")
    parts.make_schedule = [cfg](std::vector<ScheduledTask> tasks, int64_t total) {
      TrainConfig vanilla = cfg.train;
      vanilla.schedule = "vanilla";
      return make_task_schedule(vanilla, std::move(tasks), total);
    };
  return parts;
}

}  // namespace vlmt

#include "train/trainer_parts.h"

#include <filesystem>

#include "core/jsonl.h"
#include "tasks/task_data.h"
#include "train/schedule_registry.h"
#include "train/stage_context.h"
#include "train/tensorboard.h"

namespace fs = std::filesystem;

namespace vlmt {

std::vector<std::pair<const TaskSpec*, TaskHyper>> training_tasks(const RunConfig& cfg) {
  std::vector<std::pair<const TaskSpec*, TaskHyper>> out;
  if (cfg.train.stage == "pretrain") {
    const TaskSpec& spec = cfg.catalog.pretraining();
    TaskHyper hyper;
    hyper.batch_size = cfg.train.batch_size;
    hyper.epochs = cfg.train.epochs;
    hyper.lr = cfg.train.lr > 0 ? cfg.train.lr : 1e-4;
    hyper.val_split = spec.released.val_split;
    hyper.max_text = spec.released.max_text;
    hyper.max_regions = spec.released.max_regions;
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

#include "train/stage.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "train/config_checks.h"
#include "train/determinism.h"
#include "train/plan_options.h"
#include "train/run_plan.h"
#include "train/trainer.h"
#include "train/trainer_parts.h"

namespace fs = std::filesystem;

namespace vlmt {
namespace {

const char* default_config_name(const std::string& stage) {
  if (stage == "pretrain") return "pretrain_cc.toml";
  if (stage == "finetune") return "finetune.toml";
  return "at.toml";
}

std::string default_run_dir(const RunConfig& cfg, const std::string& config_path, const std::string& stage) {
  // checkpoints/<config name>, and for a fine-tuning one folder per task inside it
  // (checkpoints/finetune/nlvr2), as slurm/finetune.sh's array of tasks writes them.
  const fs::path dir = fs::path("checkpoints") / (config_path.empty() ? stage : fs::path(config_path).stem().string());
  if (stage == "finetune" && cfg.tasks.active.size() == 1) return (dir / cfg.tasks.active[0]).string();
  return dir.string();
}

}  // namespace

StageContext make_stage_context(DistRuntime& runtime, int argc, char** argv, const std::string& stage) {
  const CliArgs args = parse_cli(
      argc, argv, stage, "[CONFIG.toml] [options]",
      {cli_set(), cli_positional("CONFIG.toml", "run file (default: the stage's own, from the configs directory)", 0, 1),
       cli_text("task", "task to train (finetune) — sets tasks.active"),
       cli_text("run-dir", "run directory (default checkpoints/<config name>)"),
       cli_text("init-from", "parameters to start from (an earlier stage's checkpoint)"),
       cli_text("from", "same as --init-from"),
       cli_text("data-root", "data root (default data.root, $VLMT_DATA_ROOT, ./data)"),
       cli_number("max-hours", "checkpoint and exit (code 75) before this many hours", 0, 1e6),
       cli_flag("plan", "print parameters, steps, memory and time estimates; train nothing, write nothing"),
       cli_integer("items-per-task", "--plan without data: train items of every task", 1, 1e12),
       cli_text("items", "--plan without data: train items per task, TASK=N[,TASK=N...]"),
       cli_integer("ranks", "--plan: ranks to plan for (default: this launch's)", 1, 1e6),
       cli_flag("check-config", "validate the config, print it resolved, and exit (no data needed)")});

  std::string config_path;
  if (!args.positional.empty()) {
    config_path = locate_config(args.positional[0]);
  } else {
    config_path = (fs::path(find_configs_dir()) / default_config_name(stage)).string();
    log::info0(cat("no config given: using ", config_path, " (the default for ", stage, ")"));
  }
  std::vector<std::string> overrides = args.overrides;
  // --check-config validates a file as written (any stage); a run forces this executable's stage.
  if (!args.has("check-config")) overrides.push_back("train.stage=\"" + stage + "\"");
  if (args.has("task")) overrides.push_back("tasks.active=[\"" + args.get("task") + "\"]");
  if (args.has("run-dir")) overrides.push_back("train.run_dir=\"" + args.get("run-dir") + "\"");
  for (const char* key : {"init-from", "from"})
    if (args.has(key)) overrides.push_back("train.init_from=\"" + args.get(key) + "\"");
  if (args.has("data-root")) overrides.push_back("data.root=\"" + args.get("data-root") + "\"");
  if (args.has("max-hours")) {
    char hours[32];  // %.17g round-trips and is TOML (CLI11 took ".5" or "5." too)
    std::snprintf(hours, sizeof hours, "%.17g", args.number("max-hours", 0));
    overrides.push_back(cat("train.max_hours=", hours));
  }

  StageContext ctx;
  ctx.runtime = &runtime;
  ctx.plan_only = args.has("plan");
  for (const char* key : {"items-per-task", "items", "ranks"})
    if (args.has(key) && !ctx.plan_only) throw ConfigError(cat("--", key, " is an option of --plan"));
  ctx.plan.ranks = static_cast<int>(args.integer("ranks", 0));
  ctx.plan.items_per_task = args.integer("items-per-task", 0);
  ctx.check_config = args.has("check-config");
  ctx.config = load_run_config(config_path, overrides, "", check_registered_names);
  RunConfig& cfg = ctx.config;
  if (args.has("items")) ctx.plan.items = parse_item_counts(args.get("items"), cfg.catalog);
  if (ctx.check_config) {
    log::info0(cat(config_path, ": valid. Resolved configuration:\n", cfg.resolved_toml()));
    return ctx;
  }

  if (stage != "pretrain" && cfg.tasks.active.empty())
    throw ConfigError(cat(config_path, ": tasks.active is empty: name at least one task"));
  if (stage == "finetune" && cfg.tasks.active.size() != 1)
    throw ConfigError(cat(config_path, ": finetune trains one task; use --task NAME"));

  ctx.run_dir = cfg.train.run_dir;
  if (ctx.run_dir.empty()) {
    ctx.run_dir = default_run_dir(cfg, config_path, stage);
    log::info0(cat("train.run_dir not set: using ", ctx.run_dir));
  }

  const int threads = cfg.train.num_threads > 0
                          ? cfg.train.num_threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / runtime.local_size());
  torch::set_num_threads(threads);
  // Before select_device, the first CUDA operation (train/determinism.h says why).
  if (cfg.train.deterministic) enable_deterministic_algorithms();

  ctx.device = runtime.select_device(device_request_for_backend(cfg.dist.backend),
                                     cat("dist.backend = \"", cfg.dist.backend, "\""));
  ctx.grad_comm = make_communicator(cfg.dist.backend, runtime, ctx.device);
  ctx.control_comm = make_control_communicator(runtime);
  log::info0(cat(stage, ": ", runtime.size(), " rank(s), backend ", ctx.grad_comm->backend(), ", device ",
                 ctx.device.str(), ", ", threads, " thread(s) per rank, config ", config_path));

  if (runtime.is_root() && !ctx.plan_only) {
    fs::create_directories(ctx.run_dir);
    std::ofstream(fs::path(ctx.run_dir) / "config.toml") << cfg.resolved_toml();
    log::info0("resolved configuration:\n" + cfg.resolved_toml());
  }
  return ctx;
}

std::unique_ptr<Communicator> make_control_communicator(DistRuntime& runtime) {
  return make_communicator(runtime.size() > 1 ? "mpi" : "local", runtime, torch::kCPU);
}

int run_stage(int argc, char** argv, const std::string& stage) {
  return run_main(argc, argv, [&](DistRuntime& runtime) {
    // The error is logged in the handler, while the communicators and the trainer (its loader
    // threads) still exist: tearing them down may take time or fail, and must not hide the cause.
    StageContext ctx;
    std::optional<Trainer> trainer;
    try {
      ctx = make_stage_context(runtime, argc, argv, stage);
      if (ctx.check_config) return 0;
      if (ctx.plan_only) return run_plan(ctx, ctx.plan);
      trainer.emplace(assemble_trainer_parts(ctx));
      return trainer->run();
    } catch (const std::exception& e) {
      report_error_now(e);
      throw;
    }
  });
}

}  // namespace vlmt

// evaluate: thin main; scoring lives in eval/evaluator.
#include <filesystem>

#include "ckpt/model_checkpoint.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "distributed/runtime.h"
#include "eval/table_render.h"
#include "jobs/evaluator.h"
#include "jobs/model_source.h"
#include "train/stage.h"

namespace vlmt::apps::evaluate {

namespace fs = std::filesystem;
using namespace vlmt;

int run(int argc, char** argv) {
  return run_main(argc, argv, [&](DistRuntime& runtime) {
    std::vector<CliOption> options = model_source_options();
    for (auto o : {cli_text("task", "task key or \"all\" (default: all tasks the model was trained on, or the run "
                                    "file's for a parameter file)"),
                   cli_text("split", "val (each task's released val split), test (each task's paper protocol: VQA/GQA test-dev, VG QA val, ...), or a split file name such as test-dev, testA (default val)"),
                   cli_text("out", "output directory (default <ckpt dir>/eval_<split>)"),
                   cli_text("run-name", "the run's name in results.jsonl and the tables (default: the checkpoint's directory, "
                                        "or a parameter file's name)"),
                   cli_text("device", "auto (a GPU when one is usable, else the CPU, saying why), cuda (a GPU or an error), "
                                      "cpu (default auto)", {"auto", "cuda", "cpu"}),
                   cli_integer("max-items", "evaluate at most this many items per task (smoke runs; default all)",
                               1, 1e15)})
      options.push_back(o);
    const CliArgs args = parse_cli(argc, argv, "evaluate",
                                   "--ckpt PATH [--config RUN.toml] [--task NAME|all] [--split val|test|test-dev] [options]",
                                   options);
    auto loaded = load_model_source(args, "evaluate");
    const std::string ckpt_path = args.get("ckpt");
    const RunConfig& cfg = loaded.config;
    MultiTaskModel model = loaded.model;
    auto comm = make_control_communicator(runtime);
    const std::string device_name = args.get("device", "auto");
    const torch::Device device = runtime.select_device(device_request_named(device_name), "--device " + device_name);
    model->to(device);

    EvaluationOptions opt;
    opt.split = args.get("split", "val");
    const bool parameters = loaded.kind == "parameters";
    opt.run_name = args.get("run-name", parameters ? fs::path(ckpt_path).stem().string()
                                                   : fs::path(ckpt_path).parent_path().filename().string());
    opt.out_dir = args.get("out", (fs::path(ckpt_path).parent_path() / ("eval_" + opt.split)).string());
    opt.max_items = args.integer("max-items", 0);
    std::vector<std::string> tasks;
    const std::string which = args.get("task", "all");
    if (which == "all") {
      tasks = cfg.tasks.active;
      if (tasks.empty()) throw ConfigError(cat(ckpt_path, ": the checkpoint names no tasks (a pretraining checkpoint?)"));
      log::info0(cat("--task all: the ", tasks.size(), " task(s) ",
                     parameters ? "of the run file" : "the checkpoint was trained on"));
    } else {
      tasks = {cfg.catalog.by_key(which).key};
    }
    log::info0(cat("evaluate: ", ckpt_path, " on ", opt.split, ", ", runtime.size(), " rank(s), results in ", opt.out_dir));
    if (runtime.is_root()) {
      fs::create_directories(opt.out_dir);
      RunInfo info;
      info.run = opt.run_name;
      info.params = model->parameter_count();
      info.models = 1;
      if (!parameters) {  // a parameter file's run file did not train it: no seed or Δ to report
        info.dsg_gap = cfg.train.dsg_gap;
        info.seed = cfg.train.seed;
      }
      append_run_info((fs::path(opt.out_dir) / "results.jsonl").string(), info);
    }
    Evaluator evaluator(cfg, model, *comm, device);
    std::vector<ResultRecord> results;
    for (const auto& t : tasks) results.push_back(evaluator.evaluate(t, opt));
    std::string table_text = "| task | split | metric | score | chance | n |\n|---|---|---|---|---|---|\n";
    for (const auto& r : results) {
      table_text += cat("| ", r.task, " | ", r.split, " | ", r.metric, " | ", format_score(r.score), " | ",
                        format_score(number_extra(r, "chance")), " | ", r.n, " |\n");
    }
    log::info0("results:\n" + table_text);
    return 0;
  });
}

}  // namespace vlmt::apps::evaluate

// forward_dump: the model's outputs for given inputs, for golden tests against any reference
// implementation (docs/MODEL.md, "forward_dump").
//
//   forward_dump --params P.h5 --preset base|tiny|FILE.toml --inputs IN.h5 --out OUT.h5
//
// P.h5 is a vlmt parameter file (tools/convert/convert_vilbert_checkpoint.py, import_bert) or a stage
// checkpoint. IN.h5 and OUT.h5 use the tensor-file layout of docs/CHECKPOINTS.md.
#include <filesystem>

#include "catalog/task_catalog.h"
#include "ckpt/checkpoint.h"
#include "ckpt/param_io.h"
#include "ckpt/tensor_file.h"
#include "config/run_config.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "model/multitask_model.h"

namespace vlmt::dev::forward_dump {

using namespace vlmt;

namespace {

torch::Tensor require(const std::map<std::string, torch::Tensor>& in, const std::string& name,
                      const std::string& file) {
  auto it = in.find(name);
  if (it == in.end()) throw DataError(cat(file, ": input tensor \"", name, "\" is missing"));
  return it->second;
}

}  // namespace

int run(int argc, char** argv) {
  return vlmt::run_tool([&] {
    const CliArgs args = parse_cli(argc, argv, "forward_dump", "--params P.h5 --preset NAME --inputs IN.h5 --out OUT.h5",
                                   {cli_text("params", "parameter file or checkpoint"),
                                    cli_text("preset", "model preset name or .toml path (default base)"),
                                    cli_text("task-token", "task token mode (default: the preset's)", {"per_dataset", "per_head", "none"}),
                                    cli_text("inputs", "HDF5 tensor file of inputs"),
                                    cli_text("out", "HDF5 tensor file to write"),
                                    cli_flag("allow-partial", "accept a parameter file that covers only part of the model")});
    for (const char* k : {"params", "inputs", "out"})
      if (!args.has(k)) throw ConfigError(cat("forward_dump: --", k, " is required"));
    ModelConfig config = load_model_preset(args.get("preset", "base"));
    if (args.has("task-token")) {
      const std::string mode = args.get("task-token");
      if (mode == "per_dataset") config.task_token = TaskTokenMode::kPerDataset;
      else if (mode == "per_head") config.task_token = TaskTokenMode::kPerHead;
      else if (mode == "none") config.task_token = TaskTokenMode::kNone;
      else throw ConfigError(cat("forward_dump: --task-token ", mode, " is not per_dataset, per_head or none"));
    }
    MultiTaskModel model(config);
    const std::string params = args.get("params");
    ckpt::NamedTensors weights;
    try {
      weights = ckpt::read_checkpoint(params).params;
    } catch (const CheckpointError&) {
      weights = ckpt::read_tensors(params);
    }
    auto report = ckpt::load_parameters(*model, weights, params, args.has("allow-partial"));
    model->eval();

    const std::string in_path = args.get("inputs");
    std::map<std::string, torch::Tensor> in;
    for (auto& [name, t] : ckpt::read_tensors(in_path)) in[name] = t;
    auto ids = require(in, "input_ids", in_path).to(torch::kInt64);
    auto segments = require(in, "segment_ids", in_path).to(torch::kInt64);
    auto text_mask = require(in, "text_mask", in_path).to(torch::kInt64);
    auto features = require(in, "features", in_path).to(torch::kFloat32);
    auto spatials = require(in, "spatials", in_path).to(torch::kFloat32);
    auto image_mask = require(in, "image_mask", in_path).to(torch::kInt64);
    torch::Tensor rows;
    if (in.count("task_ids") && config.task_token != TaskTokenMode::kNone) {
      auto task_ids = in["task_ids"].to(torch::kInt64);
      rows = torch::empty_like(task_ids);
      for (int64_t i = 0; i < task_ids.size(0); ++i) {
        const int64_t id = task_ids[i].item<int64_t>();
        rows[i] = id == 0 ? 0 : model->task_token_row(TaskCatalog::builtin().by_id(static_cast<int>(id)));
      }
    }
    torch::NoGradGuard no_grad;
    auto out = model->forward_inputs(ids, segments, text_mask, features, spatials, image_mask, rows);
    ckpt::NamedTensors dump = {
        {"sequence_text", out.trunk.text},       {"sequence_image", out.trunk.image},
        {"pooled_text", out.trunk.pooled_text},  {"pooled_image", out.trunk.pooled_image},
        {"fused", out.fused},                    {"vil_prediction", model->vqa_logits(out)},
        {"vil_prediction_gqa", model->gqa_logits(out)}, {"vil_logit", model->retrieval_logits(out)},
        {"vision_logit", model->region_logits(out, image_mask)}, {"vil_tri_prediction", model->tri_logits(out)}};
    if (ids.size(0) % 2 == 0) dump.emplace_back("vil_binary_prediction", model->binary_logits(out));
    ckpt::write_tensors(args.get("out"), dump);
    log::info(cat("forward_dump: ", ids.size(0), " rows, ", report.loaded.size(), " parameters loaded, ", dump.size(),
                  " outputs written to ", args.get("out")));
    return 0;
  });
}

}  // namespace vlmt::dev::forward_dump

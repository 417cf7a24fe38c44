// infer: one image and one text through a trained model; prints JSON.
#include <chrono>
#include <iostream>
#include <sstream>

#include "ckpt/model_checkpoint.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "jobs/inference.h"

using namespace vlmt;

int main(int argc, char** argv) {
  return run_tool([&] {
    const CliArgs args = parse_cli(
        argc, argv, "infer", "--ckpt PATH --task NAME --image-id ID[,ID] --text \"...\" [--embed]",
        {cli_set(), cli_text("ckpt", "checkpoint (a stage's latest.h5)"),
         cli_text("task", "task key: vqa, gqa, refcoco, retrieval_coco, nlvr2, snli_ve, ..."),
         cli_text("image-id", "image id; two comma-separated for nlvr2; retrieval: candidates (default all)"),
         cli_text("text", "question, expression, caption or statement"),
         cli_integer("top", "how many answers / images to list (default 5)", 1, 1000000),
         cli_text("data-root", "data root (default: the checkpoint's)"),
         cli_flag("embed", "also print the pooled text/image and fused embeddings")});
    for (const char* required : {"ckpt", "task", "text"})
      if (!args.has(required)) throw ConfigError(cat("infer: --", required, " is required"));
    const auto t0 = std::chrono::steady_clock::now();
    torch::set_num_threads(1);
    std::vector<std::string> overrides = args.overrides;
    if (args.has("data-root")) overrides.push_back("data.root=\"" + args.get("data-root") + "\"");
    log::set_level(log::Level::kWarn);  // stdout is the JSON answer
    auto loaded = ckpt::load_model_checkpoint(args.get("ckpt"), overrides);
    InferenceRequest req;
    req.task = args.get("task");
    req.text = args.get("text");
    req.top = static_cast<int>(args.integer("top", 5));
    req.embed = args.has("embed");
    std::stringstream ids(args.get("image-id"));
    for (std::string id; std::getline(ids, id, ',');)
      if (!id.empty()) req.image_ids.push_back(id);
    auto result = run_inference(loaded.config, *loaded.model, req);
    result["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << result.dump(2) << std::endl;
    return 0;
  });
}

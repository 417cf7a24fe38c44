// infer: images and texts through a trained model; prints JSON (docs/INFERENCE.md).
//   one request:   infer --ckpt P --task vqa --image-id ID --text "..." [--features FILE.h5]
//   a batch:       infer --ckpt P --requests FILE.jsonl [--out FILE.jsonl]   (- = stdin/stdout)
#include <fstream>
#include <iostream>
#include <sstream>

#include "jobs/model_source.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timing.h"
#include "jobs/inference.h"

namespace vlmt::apps::infer {

using namespace vlmt;

namespace {

// Answers every line of `in` into `out`, one JSON object per line, in order: the answer with
// "request" (the 1-based line) and the caller's "id", or {"request", "id", "error",
// "exit_code"} for a request that failed; the others are still answered. Returns the exit code
// of the first failed request, 0 when none failed.
int answer_batch(InferenceSession& session, std::istream& in, const std::string& name, std::ostream& out) {
  int first_failure = 0, failed = 0, answered = 0;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto t0 = SteadyClock::now();
    nlohmann::json record;
    nlohmann::json id;
    try {
      const nlohmann::json request = nlohmann::json::parse(line);
      if (request.is_object() && request.contains("id")) id = request["id"];
      record = session.answer(parse_inference_request(request, cat(name, ":", number)));
      record["seconds"] = seconds_since(t0);
      ++answered;
    } catch (const nlohmann::json::parse_error& e) {
      record = {{"error", cat(name, ":", number, ": not JSON: ", e.what())},
                {"exit_code", static_cast<int>(ExitCode::kConfig)}};
    } catch (const Error& e) {
      record = {{"error", e.what()}, {"exit_code", static_cast<int>(e.code())}};
    } catch (const std::exception& e) {  // e.g. LibTorch's: a request the model cannot take
      record = {{"error", cat(name, ":", number, ": ", e.what())},
                {"exit_code", static_cast<int>(ExitCode::kFailure)}};
    }
    if (record.contains("error")) {
      ++failed;
      if (!first_failure) first_failure = record["exit_code"].get<int>();
      log::error(record["error"].get<std::string>());
    }
    record["request"] = number;
    if (!id.is_null()) record["id"] = id;
    out << record.dump() << '\n' << std::flush;
  }
  if (failed) log::warn(cat("infer: ", answered, " request(s) answered, ", failed, " failed (", name, ")"));
  return first_failure;
}

}  // namespace

int run(int argc, char** argv) {
  return run_tool([&] {
    const CliArgs args = parse_cli(
        argc, argv, "infer",
        "--ckpt PATH (--task NAME --image-id ID[,ID] --text \"...\" | --requests FILE.jsonl) [options]",
        [] {
          auto options = model_source_options();
          for (auto o : {
         cli_text("task", "task key: vqa, gqa, refcoco, retrieval_coco, nlvr2, snli_ve, ..."),
         cli_text("image-id", "image id; two comma-separated for nlvr2; retrieval: candidates (default all)"),
         cli_text("text", "question, expression, caption or statement"),
         cli_text("features", "HDF5 feature file with the images (default: the data root's for the task)"),
         cli_integer("top", "how many answers / images to list (default 5)", 1, 1000000),
         cli_text("requests", "JSON Lines of requests, one answer line each (- = stdin)"),
         cli_text("out", "with --requests: where the answers go (default - = stdout)"),
         cli_flag("embed", "also print the pooled text/image and fused embeddings")})
            options.push_back(o);
          return options;
        }());
    const bool batch = args.has("requests");
    for (const char* single : {"task", "text", "image-id", "features", "top", "embed"})
      if (batch && args.has(single))
        throw ConfigError(cat("infer: --", single, " belongs to one request; with --requests give it in each line"));
    if (!batch) {
      for (const char* required : {"task", "text"})
        if (!args.has(required)) throw ConfigError(cat("infer: --", required, " is required (or --requests FILE)"));
      if (args.has("out")) throw ConfigError("infer: --out goes with --requests");
    }
    const auto t0 = SteadyClock::now();
    torch::set_num_threads(1);
    log::set_level(log::Level::kWarn);  // stdout is the JSON answer
    auto loaded = load_model_source(args, "infer");
    InferenceSession session(loaded.config, loaded.model);

    if (batch) {
      const std::string in_name = args.get("requests"), out_name = args.get("out", "-");
      std::ifstream in_file;
      if (in_name != "-") {
        in_file.open(in_name);
        if (!in_file) throw DataError(cat("infer: cannot read ", in_name));
      }
      std::ofstream out_file;
      if (out_name != "-") {
        out_file.open(out_name);
        if (!out_file) throw DataError(cat("infer: cannot write ", out_name));
      }
      const int code = answer_batch(session, in_name == "-" ? std::cin : in_file, in_name,
                                    out_name == "-" ? std::cout : out_file);
      if (code) throw Error(static_cast<ExitCode>(code), cat("infer: some requests of ", in_name, " failed"));
      return 0;
    }
    InferenceRequest req;
    req.task = args.get("task");
    req.text = args.get("text");
    req.top = static_cast<int>(args.integer("top", 5));
    req.embed = args.has("embed");
    req.features = args.get("features", "");
    std::stringstream ids(args.get("image-id"));
    for (std::string id; std::getline(ids, id, ',');)
      if (!id.empty()) req.image_ids.push_back(id);
    auto result = session.answer(req);
    result["seconds"] = seconds_since(t0);
    std::cout << result.dump(2) << std::endl;
    return 0;
  });
}

}  // namespace vlmt::apps::infer

// mt_vgc: multi-task visual grounding consistency (supplement 8.8) of an evaluated model, from
// the per-item predictions `evaluate` wrote for vqa and refcoco / refcoco+ of one split.
//   mt_vgc --results-dir DIR [--split val] [--data-root ROOT] [--no-fallback]
// Prints the score and appends a result record to DIR/results.jsonl.
#include <filesystem>
#include <iostream>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "eval/mt_vgc_results.h"

namespace vlmt::apps::mt_vgc {

int run(int argc, char** argv) {
  using namespace vlmt;
  return vlmt::run_tool([&] {
    const auto args = parse_cli(
        argc, argv, "mt_vgc", "--results-dir DIR [--split val] [--data-root ROOT] [--no-fallback]",
        {cli_text("results-dir", "evaluate's output directory (results.jsonl, predictions/)"),
         cli_text("split", "evaluated split (default val)"),
         cli_text("data-root", "read the annotations under this data root instead of the recorded paths"),
         cli_flag("no-fallback", "concepts from the built-in lexicon only (no stop-word fallback)")});
    if (!args.has("results-dir")) throw ConfigError("mt_vgc: --results-dir DIR is required");
    MtVgcOptions o;
    o.results_dir = args.get("results-dir");
    o.split = args.get("split", "val");
    o.data_root = args.get("data-root", "");
    o.use_fallback = !args.has("no-fallback");
    const ResultRecord r = mt_vgc_from_results(o);
    append_result((std::filesystem::path(o.results_dir) / "results.jsonl").string(), r);
    std::cout << "mt_vgc " << r.split << ": " << r.score << " (pairs " << r.n << ", images "
              << r.extras["images"] << ", questions " << r.extras["questions"] << ", expressions "
              << r.extras["expressions"] << ")" << std::endl;
    return 0;
  });
}

}  // namespace vlmt::apps::mt_vgc

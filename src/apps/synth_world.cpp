// synth_world: writes the synthetic world (12 datasets + captions corpus, feature files, vocab)
// in the data-root layout of docs/DATA.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "synth/synth_world.h"

namespace vlmt::apps::synth_world {

int run(int argc, char** argv) {
  return vlmt::run_tool([&] {
    auto args = vlmt::parse_cli(
        argc, argv, "synth_world",
        "--out DIR [--scale S] [--seed N] [--held-out N] [--feature-dim D] [--classes C] [--float16] [--regions LO-HI]",
        {vlmt::cli_text("out", "data root to write (created if missing)"),
         vlmt::cli_number("scale", "fraction of the paper's Table 8 training sizes (default 0.001)", 1e-9, 1),
         vlmt::cli_integer("seed", "world seed (default 1)", 0, 9e15),
         vlmt::cli_integer("held-out", "items in each val and test split at least (default 128)", 1, 1000000),
         vlmt::cli_integer("feature-dim", "region feature dimension (default 64)", 4, 4096),
         vlmt::cli_integer("classes", "detector classes in /cls_prob, class 0 = background (default 64)", 2, 100000),
         vlmt::cli_flag("float16", "store region features as float16"),
         vlmt::cli_text("regions", "detected regions per image, drawn from LO-HI (the release: 10-100; "
                                   "default: the scene's own, at most 36)")});
    vlmt::SynthWorldOptions o;
    o.out_dir = args.get("out");
    o.scale = args.number("scale", 0.001);
    o.seed = static_cast<std::uint64_t>(args.integer("seed", 1));
    o.min_held_out = static_cast<int>(args.integer("held-out", vlmt::kSynthMinHeldOut));
    o.feature_dim = static_cast<int>(args.integer("feature-dim", 64));
    o.num_classes = static_cast<int>(args.integer("classes", 64));
    o.float16 = args.has("float16");
    if (args.has("regions")) {
      const std::string r = args.get("regions");
      int lo = -1, hi = -1, used = 0;
      if (std::sscanf(r.c_str(), "%d-%d%n", &lo, &hi, &used) != 2 || used != static_cast<int>(r.size()))
        throw vlmt::ConfigError(vlmt::cat("synth_world: --regions must be LO-HI (e.g. 10-100), got '", r, "'"));
      o.min_regions = lo;
      o.max_regions = hi;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto summary = vlmt::write_synth_world(o);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    long train = 0;
    for (const auto& [task, splits] : summary.items) {
      std::string line = "  " + task + ":";
      for (const auto& [split, n] : splits) line += vlmt::cat(" ", split, "=", n);
      if (task != "pretrain" && splits.count("train")) train += splits.at("train");
      vlmt::log::info(line);
    }
    std::string images;
    for (const auto& [source, n] : summary.images) images += vlmt::cat(" ", source, "=", n);
    vlmt::log::info(vlmt::cat("images:", images));
    vlmt::log::info(vlmt::cat("wrote synthetic world to ", o.out_dir, ": ", train,
                              " training items over 12 tasks, settings ", summary.settings_hash,
                              ", in ", seconds, " s"));
    return 0;
  });
}

}  // namespace vlmt::apps::synth_world

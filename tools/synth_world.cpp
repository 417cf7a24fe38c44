// synth_world: writes the synthetic world (12 datasets + captions corpus, feature files, vocab)
// in the data-root layout of docs/DATA.md.
#include <chrono>
#include <cstdlib>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "synth/synth_world.h"

namespace {
double parse_number(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0')
    throw vlmt::ConfigError(vlmt::cat("synth_world: --", option, " expects a number, got \"", text, "\""));
  return v;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    auto args = vlmt::parse_cli(
        argc, argv, "synth_world",
        "--out DIR [--scale S] [--seed N] [--feature-dim D] [--classes C] [--float16]",
        {{"out", true, "data root to write (created if missing)"},
         {"scale", true, "fraction of the paper's Table 8 training sizes (default 0.001)"},
         {"seed", true, "world seed (default 1)"},
         {"feature-dim", true, "region feature dimension (default 64)"},
         {"classes", true, "detector classes in /cls_prob, class 0 = background (default 64)"},
         {"float16", false, "store region features as float16"}});
    if (!args.positional.empty())
      throw vlmt::ConfigError("synth_world: unexpected argument " + args.positional[0]);
    vlmt::SynthWorldOptions o;
    o.out_dir = args.get("out");
    o.scale = parse_number("scale", args.get("scale", "0.001"));
    o.seed = static_cast<std::uint64_t>(parse_number("seed", args.get("seed", "1")));
    o.feature_dim = static_cast<int>(parse_number("feature-dim", args.get("feature-dim", "64")));
    o.num_classes = static_cast<int>(parse_number("classes", args.get("classes", "64")));
    o.float16 = args.has("float16");
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
  } catch (const vlmt::Error& e) {
    vlmt::log::error(e.what());
    return static_cast<int>(e.code());
  }
}

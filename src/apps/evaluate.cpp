// evaluate: placeholder main until the stage lands; parses its config and exits.
#include "config/run_config.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"

int main(int argc, char** argv) {
  try {
    auto args = vlmt::parse_cli(argc, argv, "evaluate", "[config.toml]", {});
    auto cfg = vlmt::load_run_config(args.positional.empty() ? "" : args.positional[0], args.overrides);
    vlmt::log::info0(cfg.resolved_toml());
    return 0;
  } catch (const vlmt::Error& e) {
    vlmt::log::error(e.what());
    return static_cast<int>(e.code());
  }
}

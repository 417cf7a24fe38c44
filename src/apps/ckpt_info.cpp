// ckpt_info: summarises and verifies a vlmt HDF5 training checkpoint or parameter file.
//   ckpt_info FILE.h5 [--tensors] [--config] [--quiet]
// Prints what the file is (stage, iteration, ranks, tasks and their DSG states, feature
// fingerprints, config hash: train/checkpoint_summary.h), then verifies every tensor's checksum:
// exit 0 when the file is intact, 4 (kCheckpoint) with a message naming the file and tensor
// otherwise. --tensors lists "name dtype shape" per tensor; --config prints the stored config.
#include <iostream>

#include "core/cli.h"
#include "core/error.h"
#include "train/checkpoint_summary.h"

namespace vlmt::apps::ckpt_info {

int run(int argc, char** argv) {
  using namespace vlmt;
  return run_tool([&] {
    auto args = parse_cli(argc, argv, "ckpt_info", "FILE.h5 [--tensors] [--config] [--quiet]",
                          {cli_positional("FILE.h5", "checkpoint or parameter file", 1, 1),
                           cli_flag("tensors", "also list every tensor (name, dtype, shape)"),
                           cli_flag("config", "also print the run configuration stored in a stage checkpoint"),
                           cli_flag("quiet", "print only the verification line")});
    CheckpointInfoOptions options;
    options.tensors = args.has("tensors");
    options.config = args.has("config");
    options.quiet = args.has("quiet");
    print_checkpoint_info(args.positional[0], options, std::cout);
    return 0;
  });
}

}  // namespace vlmt::apps::ckpt_info

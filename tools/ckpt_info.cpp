// ckpt_info: summarises and verifies a vlmt HDF5 training checkpoint or parameter file.
//   ckpt_info FILE.h5 [--tensors] [--config] [--quiet]
// Prints what the file is (stage, iteration, ranks, tasks and their DSG states, feature
// fingerprints, config hash: train/checkpoint_summary.h), then verifies every tensor's checksum:
// exit 0 when the file is intact, 4 (kCheckpoint) with a message naming the file and tensor
// otherwise. --tensors lists "name dtype shape" per tensor; --config prints the stored config.
#include <iostream>

#include "ckpt/checkpoint.h"
#include "ckpt/tensor_file.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"
#include "train/checkpoint_summary.h"

namespace {

void print(const char* group, const vlmt::ckpt::NamedTensors& tensors) {
  for (const auto& [name, t] : tensors) {
    std::cout << group << "/" << name << " " << vlmt::ckpt::dtype_name(t.scalar_type()) << " "
              << t.sizes() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vlmt;
  return run_tool([&] {
    auto args = parse_cli(argc, argv, "ckpt_info", "FILE.h5 [--tensors] [--config] [--quiet]",
                          {cli_positional("FILE.h5", "checkpoint or parameter file", 1, 1),
                           cli_flag("tensors", "also list every tensor (name, dtype, shape)"),
                           cli_flag("config", "also print the run configuration stored in a stage checkpoint"),
                           cli_flag("quiet", "print only the verification line")});
    const std::string path = args.positional[0];
    const bool quiet = args.has("quiet");
    std::string kind;
    {
      h5::Handle file = h5::open_file_readonly(path);
      kind = h5::has_attr(file.get(), "kind") ? h5::read_string_attr(file.get(), "kind", path) : "parameters";
    }
    if (kind == "checkpoint") {
      ckpt::CheckpointData data = ckpt::read_checkpoint(path);  // verifies every checksum
      if (!quiet) std::cout << summarize_checkpoint(path, data);
      if (!quiet && args.has("config")) std::cout << "# stored config\n" << data.config_toml << "\n";
      if (!quiet && args.has("tensors")) {
        print("/params", data.params);
        print("/optim", data.optim);
        for (const auto& [name, t] : data.rng) std::cout << "/rng/" << name << " " << t.sizes() << "\n";
      }
      std::cout << path << ": stage checkpoint, stage " << data.stage << ", " << data.params.size() + data.optim.size()
                << " tensors and the trainer state ("
                << data.trainer_state.size() << " bytes); all checksums OK\n";
    } else {
      if (args.has("config")) throw ConfigError(cat(path, ": a parameter file stores no config (--config)"));
      ckpt::NamedTensors tensors = ckpt::read_tensors(path);
      if (!quiet) std::cout << summarize_parameters(path, tensors);
      if (!quiet && args.has("tensors")) print("/params", tensors);
      std::cout << path << ": parameter file, " << tensors.size() << " tensors; all checksums OK\n";
    }
    return 0;
  });
}

// ckpt_info: lists and verifies a vlmt HDF5 parameter file or training checkpoint.
//   ckpt_info FILE.h5 [--quiet]
// Every tensor's checksum is verified; exit 0 when the file is intact, 4 (kCheckpoint) with a
// message naming the file and tensor otherwise. Prints "name dtype shape" per tensor.
#include "ckpt/checkpoint.h"
#include "ckpt/tensor_file.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"

#include <iostream>

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
  try {
    auto args = parse_cli(argc, argv, "ckpt_info", "FILE.h5",
                          {{"quiet", false, "print only the summary line"}});
    if (args.positional.size() != 1) throw ConfigError("ckpt_info: give exactly one FILE.h5");
    const std::string path = args.positional[0];
    const bool quiet = args.flags.count("quiet") > 0;
    std::string kind;
    {
      h5::Handle file = h5::open_file_readonly(path);
      kind = h5::has_attr(file.get(), "kind")
                 ? h5::read_string_attr(file.get(), "kind", path)
                 : "parameters";
    }
    if (kind == "checkpoint") {
      ckpt::CheckpointData data = ckpt::read_checkpoint(path);
      if (!quiet) {
        print("/params", data.params);
        print("/optim", data.optim);
        for (const auto& [name, t] : data.rng) std::cout << "/rng/" << name << " " << t.sizes() << "\n";
      }
      std::cout << path << ": checkpoint, stage " << data.stage << ", format "
                << data.format_version << ", " << data.params.size() << " params, "
                << data.optim.size() << " optimiser tensors, trainer state "
                << data.trainer_state.size() << " bytes; all checksums OK\n";
    } else {
      ckpt::NamedTensors tensors = ckpt::read_tensors(path);
      if (!quiet) print("/params", tensors);
      int64_t elements = 0;
      for (const auto& [name, t] : tensors) elements += t.numel();
      std::cout << path << ": parameter file, " << tensors.size() << " tensors, " << elements
                << " elements; all checksums OK\n";
    }
    return 0;
  } catch (const vlmt::Error& e) {
    vlmt::log::error(e.what());
    return static_cast<int>(e.code());
  }
}

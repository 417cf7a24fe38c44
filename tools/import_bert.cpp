// import_bert: converts a Hugging Face BERT safetensors checkpoint into a vlmt parameter file
// holding the ViLBERT text-stream weights under the official names (ckpt/bert_import.h).
//   import_bert --safetensors model.safetensors --out bert_init.h5 [--allow-partial]
// Unknown names fail the import (exit 4) unless --allow-partial; dropped names (pooler, NSP
// head) are reported. The model then loads the file with load_parameters(allow_partial=true).
#include "ckpt/bert_import.h"
#include "ckpt/safetensors.h"
#include "ckpt/tensor_file.h"
#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"

#include <iostream>

int main(int argc, char** argv) {
  using namespace vlmt;
  return vlmt::run_tool([&] {
    auto args = parse_cli(argc, argv, "import_bert", "--safetensors FILE --out FILE.h5",
                          {cli_text("safetensors", "Hugging Face BERT weights (.safetensors)"),
                           cli_text("out", "vlmt parameter file to write (HDF5)"),
                           cli_flag("allow-partial", "write the file even if names are unknown")});
    if (!args.has("safetensors") || !args.has("out")) {
      throw ConfigError("import_bert: --safetensors and --out are required");
    }
    const std::string in = args.get("safetensors"), out = args.get("out");
    ckpt::SafetensorsFile file = ckpt::read_safetensors(in);
    ckpt::BertImport result = ckpt::import_bert_tensors(file.tensors);

    std::cout << "import_bert: " << in << ": " << file.tensors.size() << " tensors, "
              << result.mapped.size() << " mapped, " << result.dropped.size() << " dropped, "
              << result.unknown.size() << " unknown\n";
    for (const auto& [name, t] : result.mapped) {
      std::cout << "  mapped   " << name << " " << t.sizes() << " " << t.scalar_type() << "\n";
    }
    for (const auto& d : result.dropped) std::cout << "  dropped  " << d << "\n";
    for (const auto& n : result.notes) std::cout << "  note     " << n << "\n";
    for (const auto& u : result.unknown) std::cout << "  UNKNOWN  " << u << "\n";
    if (!result.unknown.empty() && !args.flags.count("allow-partial")) {
      throw CheckpointError(cat("import_bert: ", in, ": ", result.unknown.size(),
                                " unknown tensor names (listed above; first: ",
                                result.unknown.front(), "); pass --allow-partial to skip them"));
    }
    if (result.mapped.empty()) throw CheckpointError(cat("import_bert: ", in, ": no BERT tensors found"));
    ckpt::write_tensors(out, result.mapped);
    std::cout << "import_bert: wrote " << result.mapped.size() << " tensors to " << out << "\n";
    return 0;
  });
}

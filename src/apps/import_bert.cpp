// import_bert: converts a Hugging Face BERT safetensors checkpoint into a vlmt parameter file
// holding the ViLBERT text-stream weights under the official names (ckpt/bert_import.h).
//   import_bert --safetensors model.safetensors --out bert_init.h5 [--allow-partial]
// Unknown names fail the import (exit 4) unless --allow-partial; dropped names (pooler, NSP
// head) are reported. The model then loads the file with load_parameters(allow_partial=true).
#include <iostream>

#include "ckpt/bert_import.h"
#include "core/cli.h"
#include "core/error.h"

namespace vlmt::apps::import_bert {

int run(int argc, char** argv) {
  using namespace vlmt;
  return vlmt::run_tool([&] {
    auto args = parse_cli(argc, argv, "import_bert", "--safetensors FILE --out FILE.h5",
                          {cli_text("safetensors", "Hugging Face BERT weights (.safetensors)"),
                           cli_text("out", "vlmt parameter file to write (HDF5)"),
                           cli_flag("allow-partial", "write the file even if names are unknown")});
    if (!args.has("safetensors") || !args.has("out")) {
      throw ConfigError("import_bert: --safetensors and --out are required");
    }
    ckpt::import_bert_file(args.get("safetensors"), args.get("out"), args.has("allow-partial"), std::cout);
    return 0;
  });
}

}  // namespace vlmt::apps::import_bert

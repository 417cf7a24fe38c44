// clean_split: removes every dataset's test images from every dataset's train/val (paper 2.2),
// writes the removed ids and prints the paper's Table 1 and Table 7 for the data root.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "data/clean_split.h"

namespace {
void write_file(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  out << text;
  if (!out) throw vlmt::DataError(vlmt::cat(path.string(), ": cannot write"));
}
}  // namespace

int main(int argc, char** argv) {
  try {
    auto args = vlmt::parse_cli(
        argc, argv, "clean_split", "--root DIR [--out FILE]",
        {{"root", true, "data root holding annotations/"},
         {"out", true, "output JSON (default DIR/splits/clean_split.json); tables go next to it "
                       "as .md"}});
    if (!args.has("root")) throw vlmt::ConfigError("clean_split: --root is required");
    const std::string root = args.get("root");
    if (!std::filesystem::is_directory(std::filesystem::path(root) / "annotations"))
      throw vlmt::DataError(vlmt::cat(root, ": no annotations/ directory"));
    const std::filesystem::path json_path =
        args.get("out", (std::filesystem::path(root) / "splits" / "clean_split.json").string());
    std::filesystem::path md_path = json_path;
    md_path.replace_extension(".md");
    const auto report = vlmt::compute_clean_split(root);
    const std::string tables = vlmt::clean_split_markdown(report);
    write_file(json_path, vlmt::clean_split_json(report));
    write_file(md_path, tables);
    std::cout << tables;
    vlmt::log::info(vlmt::cat("removed ", report.removed.size(), " test images from train/val; wrote ",
                              json_path.string(), " and ", md_path.string()));
    return 0;
  } catch (const vlmt::Error& e) {
    vlmt::log::error(e.what());
    return static_cast<int>(e.code());
  }
}

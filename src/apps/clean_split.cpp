// clean_split: lists every dataset's test images for removal from the other datasets' training
// data (paper 2.2; ids qualified by collection, VG images mapped to COCO through VG's
// image_data.json), writes the removed ids per image source and prints the paper's Table 1 and
// Table 7 for the data root.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "data/clean_split.h"

namespace vlmt::apps::clean_split {

namespace {
void write_file(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  out << text;
  if (!out) throw vlmt::DataError(vlmt::cat(path.string(), ": cannot write"));
}
}  // namespace

int run(int argc, char** argv) {
  return vlmt::run_tool([&] {
    auto args = vlmt::parse_cli(
        argc, argv, "clean_split", "--root DIR [--out FILE] [--vg-image-data FILE]",
        {vlmt::cli_text("root", "data root holding annotations/"),
         vlmt::cli_text("vg-image-data", "Visual Genome image_data.json: its coco_id finds COCO test images inside the "
                                   "VG-based tasks (default DIR/splits/vg_image_data.json when present)"),
         vlmt::cli_text("out", "output JSON (default DIR/splits/clean_split.json); tables go next to it as .md")});
    if (!args.has("root")) throw vlmt::ConfigError("clean_split: --root is required");
    const std::string root = args.get("root");
    if (!std::filesystem::is_directory(std::filesystem::path(root) / "annotations"))
      throw vlmt::DataError(vlmt::cat(root, ": no annotations/ directory"));
    const std::filesystem::path json_path =
        args.get("out", (std::filesystem::path(root) / "splits" / "clean_split.json").string());
    std::filesystem::path md_path = json_path;
    md_path.replace_extension(".md");
    const std::string vg_default = (std::filesystem::path(root) / "splits" / "vg_image_data.json").string();
    const std::string vg_path = args.get("vg-image-data", std::filesystem::exists(vg_default) ? vg_default : "");
    vlmt::VgCocoIds vg_coco;
    if (!vg_path.empty()) {
      vg_coco = vlmt::read_vg_coco_ids(vg_path);
      vlmt::log::info(vlmt::cat(vg_path, ": ", vg_coco.size(), " Visual Genome images are COCO images"));
    } else {
      vlmt::log::warn("no Visual Genome image_data.json (--vg-image-data): COCO test images inside VG-based tasks "
                      "cannot be found");
    }
    const auto report = vlmt::compute_clean_split(root, vg_coco);
    const std::string tables = vlmt::clean_split_markdown(report);
    write_file(json_path, vlmt::clean_split_json(report));
    write_file(md_path, tables);
    std::cout << tables;
    vlmt::log::info(vlmt::cat(report.removed.size(), " test images to remove from training data; wrote ",
                              json_path.string(), " and ", md_path.string()));
    return 0;
  });
}

}  // namespace vlmt::apps::clean_split

#include "data/clean_split.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace fs = std::filesystem;

namespace {
// The paper's Table 1 / Table 7 rows [A]..[L], in its order (built-in datasets).
std::vector<const TaskSpec*> paper_rows() {
  std::vector<const TaskSpec*> rows;
  for (const auto& t : TaskCatalog::builtin().datasets())
    if (t.table1_row >= 0) rows.push_back(&t);
  std::sort(rows.begin(), rows.end(), [](const TaskSpec* a, const TaskSpec* b) { return a->table1_row < b->table1_row; });
  return rows;
}

std::string letter(std::size_t i) { return cat("[", static_cast<char>('A' + i), "]"); }

std::string percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", p);
  return buf;
}
}  // namespace

VgCocoIds read_vg_coco_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(cat(path, ": cannot open Visual Genome image_data.json"));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(cat(path, ": malformed JSON: ", e.what()));
  }
  if (!j.is_array()) throw DataError(cat(path, ": expected a list of images"));
  auto id_text = [&](const nlohmann::json& v, const char* key, std::size_t n) {
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_string()) return v.get<std::string>();
    throw DataError(cat(path, ": entry ", n, ": \"", key, "\" is not an id"));
  };
  VgCocoIds out;
  for (std::size_t n = 0; n < j.size(); ++n) {
    const auto& e = j[n];
    if (!e.is_object() || !e.contains("image_id")) throw DataError(cat(path, ": entry ", n, " has no \"image_id\""));
    if (e.contains("coco_id") && !e["coco_id"].is_null()) out[id_text(e["image_id"], "image_id", n)] = id_text(e["coco_id"], "coco_id", n);
  }
  return out;
}

std::string qualified_image_id(const std::string& ns, const std::string& id, const VgCocoIds& vg_coco) {
  if (ns == "vg")
    if (const auto it = vg_coco.find(id); it != vg_coco.end()) return "coco:" + it->second;
  return ns + ":" + id;
}

double CleanSplitDataset::removed_percent() const {
  return trainval.empty() ? 0.0 : 100.0 * (trainval.size() - cleaned) / trainval.size();
}

double CleanSplitReport::overlap_percent(std::size_t r, std::size_t c) const {
  const auto& row = datasets.at(r);
  const auto& col = datasets.at(c);
  if (!row.present || !col.present || row.test.empty()) return -1.0;
  std::size_t shared = 0;
  for (const auto& id : row.test) shared += col.trainval.count(id);
  return 100.0 * shared / row.test.size();
}

std::vector<std::string> read_annotation_image_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(cat(path, ": cannot open annotation file"));
  std::vector<std::string> ids;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json item;
    try {
      item = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(cat(path, ":", number, ": malformed JSON: ", e.what()));
    }
    auto as_id = [&](const nlohmann::json& v, const char* key) {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_integer()) return v.dump();  // tolerate numeric COCO ids
      throw DataError(cat(path, ":", number, ": \"", key, "\" is not a string id"));
    };
    if (item.is_object() && item.contains("image_ids") && item["image_ids"].is_array()) {
      for (const auto& v : item["image_ids"]) ids.push_back(as_id(v, "image_ids"));
    } else if (item.is_object() && item.contains("image_id")) {
      ids.push_back(as_id(item["image_id"], "image_id"));
    } else {
      throw DataError(cat(path, ":", number, ": no \"image_id\" (or \"image_ids\") field"));
    }
  }
  return ids;
}

namespace {

// The splits whose images are read: train and the val split (kept), the declared test splits
// and any other test* file of the folder (removed: a 5K COCO test set, a test-std file).
std::vector<std::pair<std::string, bool>> split_files(const fs::path& dir, const TaskSpec& spec) {
  std::vector<std::pair<std::string, bool>> files = {{"train", false}, {spec.released.val_split, false}};
  std::set<std::string> tests(spec.test_splits.begin(), spec.test_splits.end());
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".jsonl" && e.path().stem().string().rfind("test", 0) == 0)
      tests.insert(e.path().stem().string());
  for (const auto& t : tests) files.emplace_back(t, true);
  return files;
}

}  // namespace

CleanSplitReport compute_clean_split(const std::string& root, const VgCocoIds& vg_coco) {
  CleanSplitReport report;
  const auto rows = paper_rows();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string& key = rows[i]->key;
    const std::string& name = rows[i]->dataset_name;
    CleanSplitDataset d;
    d.key = key;
    d.source = rows[i]->image_source;
    d.id_namespace = rows[i]->id_namespace();
    d.label = letter(i) + " " + name;
    const fs::path dir = fs::path(root) / "annotations" / key;
    if (!fs::is_directory(dir)) {
      d.notes.push_back(cat("no directory ", dir.string(), "; skipped"));
      report.datasets.push_back(std::move(d));
      continue;
    }
    d.present = true;
    const TaskSpec& spec = builtin_task(key);
    for (const auto& split : spec.test_splits) {
      const fs::path path = dir / (split + ".jsonl");
      if (!fs::exists(path))
        throw DataError(cat(path.string(), ": missing; ", key, "'s test splits as released are ",
                            join_names(spec.test_splits), ", and the images of each must be removed from training data"));
    }
    for (const auto& [split, is_test] : split_files(dir, spec)) {
      const fs::path path = dir / (split + ".jsonl");
      if (!fs::exists(path)) {
        d.notes.push_back(cat("no ", path.string(), "; skipped"));
        continue;
      }
      for (const auto& id : read_annotation_image_ids(path.string()))
        (is_test ? d.test : d.trainval).insert(qualified_image_id(d.id_namespace, id, vg_coco));
    }
    report.datasets.push_back(std::move(d));
  }
  for (const auto& d : report.datasets) report.removed.insert(d.test.begin(), d.test.end());
  for (auto& d : report.datasets) {
    d.cleaned = 0;
    for (const auto& id : d.trainval) d.cleaned += report.removed.count(id) == 0;
  }
  // Each source's own ids of the removed images: its namespace's ids, and for Visual Genome
  // sources the VG ids of removed COCO images.
  std::map<std::string, std::string> sources;  // source → its id namespace
  for (const auto& d : report.datasets)
    if (d.present) sources[d.source] = d.id_namespace;
  for (const auto& [source, ns] : sources) {
    auto& raw = report.removed_by_source[source];
    const std::string prefix = ns + ":";
    for (const auto& q : report.removed)
      if (q.rfind(prefix, 0) == 0) raw.insert(q.substr(prefix.size()));
    if (prefix == "vg:")
      for (const auto& [vg, coco] : vg_coco)
        if (report.removed.count("coco:" + coco)) raw.insert(vg);
  }
  return report;
}

std::string clean_split_json(const CleanSplitReport& report) {
  nlohmann::ordered_json per = nlohmann::ordered_json::object();
  for (const auto& d : report.datasets) {
    per[d.key] = {{"label", d.label},
                  {"present", d.present},
                  {"trainval_images", d.trainval.size()},
                  {"test_images", d.test.size()},
                  {"clean_trainval_images", d.cleaned},
                  {"removed_percent", d.removed_percent()},
                  {"notes", d.notes}};
  }
  nlohmann::ordered_json removed = nlohmann::ordered_json::object();
  for (const auto& [source, ids] : report.removed_by_source) removed[source] = ids;
  nlohmann::ordered_json out = {{"removed_image_ids", removed}, {"per_dataset", per}};
  return out.dump(2) + "\n";
}

std::string clean_split_markdown(const CleanSplitReport& report) {
  const std::size_t n = report.datasets.size();
  std::string md = "## Table 1: percentage of row-task test images present in column-task "
                   "train/val images\n\n|  |";
  for (std::size_t c = 0; c < n; ++c) md += " " + letter(c) + " |";
  md += "\n|---|";
  for (std::size_t c = 0; c < n; ++c) md += "---|";
  md += "\n";
  for (std::size_t r = 0; r < n; ++r) {
    md += "| " + report.datasets[r].label + " |";
    for (std::size_t c = 0; c < n; ++c) {
      const double p = report.overlap_percent(r, c);
      md += " " + (p < 0 ? std::string("-") : percent(p)) + " |";
    }
    md += "\n";
  }
  md += "\n## Table 7: images in train+val and test before and after cleaning\n\n"
        "|  | Train+Val | Test | Cleaned Train+Val | % Removed |\n|---|---|---|---|---|\n";
  double sum = 0;
  int counted = 0;
  for (const auto& d : report.datasets) {
    if (!d.present) {
      md += "| " + d.label + " | - | - | - | - |\n";
      continue;
    }
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.2f", d.removed_percent());
    md += cat("| ", d.label, " | ", d.trainval.size(), " | ",
              d.test.empty() ? std::string("-") : std::to_string(d.test.size()), " | ", d.cleaned,
              " | ", pct, " |\n");
    sum += d.removed_percent();
    ++counted;
  }
  char avg[32];
  std::snprintf(avg, sizeof avg, "%.2f", counted ? sum / counted : 0.0);
  md += cat("| Average | - | - | - | ", avg, " |\n");
  std::vector<std::string> notes;
  for (const auto& d : report.datasets)
    for (const auto& note : d.notes) notes.push_back(d.label + ": " + note);
  if (!notes.empty()) {
    md += "\nNotes:\n\n";
    for (const auto& note : notes) md += "- " + note + "\n";
  }
  md += cat("\nRemoved images (union of all test sets): ", report.removed.size(), "\n");
  return md;
}

}  // namespace vlmt

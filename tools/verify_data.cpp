// verify_data: checks a data root before a run — vocabulary present, feature files readable and
// of one feature dimension, every annotation line well-formed and every referenced image present
// in its task's feature file(s). Prints what is wrong per task; exit 3 if anything is, else 0.
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/cli.h"
#include "core/error.h"
#include "core/log.h"
#include "data/annotations.h"
#include "data/feature_store.h"
#include "config/run_config.h"
#include "tasks/task_data.h"
#include "tasks/task_kind.h"
#include "text/wordpiece.h"

namespace fs = std::filesystem;
using namespace vlmt;

namespace {

struct Report {
  std::vector<std::string> problems;
  void add(const std::string& p) { problems.push_back(p); }
};

// Opens each feature file once; remembers failures so they are reported once per task.
class Stores {
 public:
  explicit Stores(std::string root) : root_(std::move(root)) {}
  FeatureStore* get(const std::string& name, Report& report) {
    const std::string path = (fs::path(root_) / "features" / (name + ".h5")).string();
    auto it = stores_.find(path);
    if (it == stores_.end()) {
      std::string error;
      std::unique_ptr<FeatureStore> store;
      try {
        store = std::make_unique<FeatureStore>(path);
      } catch (const Error& e) {
        error = e.what();
      }
      it = stores_.emplace(path, std::make_pair(std::move(store), error)).first;
    }
    if (!it->second.first) report.add(it->second.second);
    return it->second.first.get();
  }
  std::map<int64_t, std::vector<std::string>> dims() const {
    std::map<int64_t, std::vector<std::string>> out;
    for (const auto& [path, entry] : stores_)
      if (entry.first) out[entry.first->feature_dim()].push_back(path);
    return out;
  }

 private:
  std::string root_;
  std::map<std::string, std::pair<std::unique_ptr<FeatureStore>, std::string>> stores_;
};

Report check_task(const std::string& root, const TaskSpec& spec, const FeatureSources& sources, Stores& stores) {
  Report report;
  const TaskKind& kind = spec.kind();
  const fs::path dir = fs::path(root) / "annotations" / spec.key;
  std::vector<std::string> files;
  if (fs::is_directory(dir))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".jsonl" && !kind.is_side_file(entry.path().filename().string()))
        files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) report.add(cat("no annotation files ", dir.string(), "/*.jsonl"));
  try {
    kind.check_side_files(root, spec);
  } catch (const Error& e) {
    report.add(e.what());
  }
  std::vector<FeatureStore*> needed{stores.get(sources.detections, report)};
  if (kind.reads_gt_features("train", TrainConfig{})) needed.push_back(stores.get(sources.ground_truth, report));
  if (kind.reads_class_distributions() && needed[0] && !needed[0]->has_cls_prob())
    report.add(cat(needed[0]->path(), " lacks /cls_prob, needed for pretraining"));
  for (const std::string& file : files) {
    std::vector<std::string> ids;
    try {
      kind.check_annotations(file);
      ids = read_referenced_image_ids(file);
    } catch (const Error& e) {
      report.add(e.what());
      continue;
    }
    for (FeatureStore* store : needed) {
      if (!store) continue;
      std::set<std::string> missing;
      for (const auto& id : ids)
        if (!store->contains(id)) missing.insert(id);
      if (missing.empty()) continue;
      std::ostringstream line;
      line << fs::path(file).filename().string() << ": " << missing.size() << " image(s) missing from "
           << store->path() << ":";
      int shown = 0;
      for (const auto& id : missing) {
        if (shown++ == 5) { line << " ..."; break; }
        line << " '" << id << "'";
      }
      report.add(line.str());
    }
  }
  return report;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  return vlmt::run_tool([&] {
    auto args = parse_cli(argc, argv, "verify_data", "--root DIR [--tasks a,b] [--config RUN.toml] [--set ...]",
                          {cli_text("root", "data root to check"),
                           cli_text("tasks", "comma-separated task keys (and/or 'pretrain'); default: all present"),
                           cli_text("config", "run file whose tasks.<key>.features / gt_features name the feature "
                                              "files (default: each task's own)"),
                           cli_set()});
    if (!args.has("root")) throw ConfigError("verify_data needs --root DIR");
    const std::string root = args.get("root");
    if (!fs::is_directory(root)) throw DataError(cat("data root ", root, " is not a directory"));

    bool bad = false;
    try {
      WordPiece vocab = WordPiece::from_file((fs::path(root) / "vocab.txt").string());
      std::cout << "vocab: OK (" << vocab.size() << " tokens)\n";
    } catch (const Error& e) {
      std::cout << "vocab: " << e.what() << "\n";
      bad = true;
    }

    // Tasks: the ones asked for, else every task (and pretraining) with an annotation folder.
    std::vector<const TaskSpec*> tasks;
    if (args.has("tasks")) {
      for (const auto& key : split_commas(args.get("tasks"))) tasks.push_back(&task_by_key(key));
    } else {
      for (const auto& spec : all_tasks())
        if (fs::is_directory(fs::path(root) / "annotations" / spec.key)) tasks.push_back(&spec);
      if (fs::is_directory(fs::path(root) / "annotations" / pretraining_task().key))
        tasks.push_back(&pretraining_task());
      if (tasks.empty()) {
        std::cout << "no task annotations under " << root << "/annotations\n";
        bad = true;
      }
    }

    // Which feature files each task reads: its own, or those a run file / --set names (the
    // released data's per-dataset files, tools/convert/released_features.py --print-overrides).
    const RunConfig config = load_run_config(args.has("config") ? locate_config(args.get("config")) : "", args.overrides);
    Stores stores(root);
    for (const TaskSpec* spec : tasks) {
      const TaskHyper none;
      const TaskHyper& hyper = config.tasks.hyper.count(spec->key) ? config.tasks.of(spec->key) : none;
      Report report = check_task(root, *spec, feature_sources(*spec, hyper), stores);
      const std::string& key = spec->key;
      if (report.problems.empty()) {
        std::cout << "task " << key << ": OK\n";
        continue;
      }
      bad = true;
      std::cout << "task " << key << ": " << report.problems.size() << " problem(s)\n";
      for (const auto& p : report.problems) std::cout << "  - " << p << "\n";
    }
    const auto dims = stores.dims();
    if (dims.size() > 1) {
      bad = true;
      std::cout << "feature files disagree on feature_dim:\n";
      for (const auto& [dim, paths] : dims)
        for (const auto& p : paths) std::cout << "  - " << p << ": " << dim << "\n";
    }
    std::cout << (bad ? "data root has problems\n" : "data root OK\n");
    return bad ? static_cast<int>(ExitCode::kData) : 0;
  });
}

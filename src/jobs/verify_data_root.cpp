#include "jobs/verify_data_root.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>

#include "config/run_config.h"
#include "core/error.h"
#include "core/log.h"
#include "data/annotations.h"
#include "data/feature_store.h"
#include "tasks/task_data.h"
#include "tasks/task_kind.h"
#include "text/wordpiece.h"

namespace fs = std::filesystem;

namespace vlmt {

namespace {

// Opens each feature file once; remembers failures so they are reported once per task.
class VerifiedFeatureStores {
 public:
  explicit VerifiedFeatureStores(std::string root) : root_(std::move(root)) {}
  FeatureStore* get(const std::string& name, std::vector<std::string>& problems) {
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
    if (!it->second.first) problems.push_back(it->second.second);
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

std::vector<std::string> verify_task_data(const std::string& root, const TaskSpec& spec,
                                          const FeatureSources& sources, VerifiedFeatureStores& stores) {
  std::vector<std::string> problems;
  const TaskKind& kind = kind_of(spec);
  const fs::path dir = fs::path(root) / "annotations" / spec.key;
  std::vector<std::string> files;
  if (fs::is_directory(dir))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".jsonl" && !kind.is_side_file(entry.path().filename().string()))
        files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) problems.push_back(cat("no annotation files ", dir.string(), "/*.jsonl"));
  try {
    kind.check_side_files(root, spec);
  } catch (const Error& e) {
    problems.push_back(e.what());
  }
  std::vector<FeatureStore*> needed{stores.get(sources.detections, problems)};
  if (kind.reads_gt_features("train", TrainConfig{})) needed.push_back(stores.get(sources.ground_truth, problems));
  if (kind.reads_class_distributions() && needed[0] && !needed[0]->has_cls_prob())
    problems.push_back(cat(needed[0]->path(), " lacks /cls_prob, needed for pretraining"));
  for (const std::string& file : files) {
    std::vector<std::string> ids;
    try {
      kind.check_annotations(file);
      ids = read_referenced_image_ids(file);
    } catch (const Error& e) {
      problems.push_back(e.what());
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
      problems.push_back(line.str());
    }
  }
  return problems;
}

}  // namespace

bool DataRootReport::ok() const {
  if (!vocab_ok || no_tasks_found || feature_dims.size() > 1) return false;
  for (const auto& task : tasks)
    if (!task.problems.empty()) return false;
  return true;
}

DataRootReport verify_data_root(const DataRootCheckOptions& options, std::ostream& out) {
  const std::string& root = options.root;
  if (!fs::is_directory(root)) throw DataError(cat("data root ", root, " is not a directory"));
  DataRootReport report;
  try {
    WordPiece vocab = WordPiece::from_file((fs::path(root) / "vocab.txt").string());
    out << "vocab: OK (" << vocab.size() << " tokens)\n";
    report.vocab_ok = true;
  } catch (const Error& e) {
    out << "vocab: " << e.what() << "\n";
  }

  // Which feature files each task reads: its own, or those a run file / --set names (the
  // released data's per-dataset files, tools/convert/released_features.py --print-overrides).
  // The run file may also declare datasets.
  const RunConfig config = load_run_config(
      options.config_file.empty() ? "" : locate_config(options.config_file), options.overrides);
  check_task_kinds(config.catalog);

  // Tasks: the ones asked for, else every task (and pretraining) with an annotation folder.
  std::vector<const TaskSpec*> tasks;
  if (options.task_keys) {
    for (const auto& key : *options.task_keys) tasks.push_back(&config.catalog.by_key(key));
  } else {
    for (const auto& spec : config.catalog.datasets())
      if (fs::is_directory(fs::path(root) / "annotations" / spec.key)) tasks.push_back(&spec);
    const TaskSpec& pretraining = config.catalog.pretraining();
    if (fs::is_directory(fs::path(root) / "annotations" / pretraining.key)) tasks.push_back(&pretraining);
    if (tasks.empty()) {
      out << "no task annotations under " << root << "/annotations\n";
      report.no_tasks_found = true;
    }
  }

  VerifiedFeatureStores stores(root);
  for (const TaskSpec* spec : tasks) {
    const TaskHyper none;
    const TaskHyper& hyper = config.tasks.hyper.count(spec->key) ? config.tasks.of(spec->key) : none;
    TaskDataProblems task{spec->key, verify_task_data(root, *spec, feature_sources(*spec, hyper), stores)};
    if (task.problems.empty()) {
      out << "task " << task.key << ": OK\n";
    } else {
      out << "task " << task.key << ": " << task.problems.size() << " problem(s)\n";
      for (const auto& p : task.problems) out << "  - " << p << "\n";
    }
    report.tasks.push_back(std::move(task));
  }
  report.feature_dims = stores.dims();
  if (report.feature_dims.size() > 1) {
    out << "feature files disagree on feature_dim:\n";
    for (const auto& [dim, paths] : report.feature_dims)
      for (const auto& p : paths) out << "  - " << p << ": " << dim << "\n";
  }
  out << (report.ok() ? "data root OK\n" : "data root has problems\n");
  return report;
}

}  // namespace vlmt

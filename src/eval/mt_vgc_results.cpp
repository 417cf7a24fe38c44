#include "eval/mt_vgc_results.h"

#include <filesystem>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "core/log.h"
#include "data/annotations.h"
#include "eval/mt_vgc.h"

namespace fs = std::filesystem;

namespace vlmt {
namespace {

// The last result of `task` on `split` in the file, if any.
std::optional<ResultRecord> last_result(const ResultsFile& file, const std::string& task,
                                        const std::string& split) {
  std::optional<ResultRecord> found;
  for (const auto& r : file.results)
    if (r.task == task && r.split == split) found = r;
  return found;
}

std::string recorded_path(const ResultRecord& r, const std::string& field,
                          const std::string& fallback) {
  return r.extras.contains(field) && r.extras[field].is_string()
             ? r.extras[field].get<std::string>()
             : fallback;
}

// Annotation file of a result: as recorded, or the same file name under another data root.
std::string annotation_file(const ResultRecord& r, const MtVgcOptions& o,
                            const std::string& results_path) {
  const std::string recorded = recorded_path(r, "annotations", "");
  if (recorded.empty())
    throw DataError(
        cat(results_path, ": the ", r.task, " result of split ", r.split,
            " names no \"annotations\" file (written by an older evaluate; run evaluate again)"));
  if (o.data_root.empty()) return recorded;
  return (fs::path(o.data_root) / "annotations" / r.task / fs::path(recorded).filename()).string();
}

// id -> (text, image id) of every line of an annotation file with that id, in file order. Ids
// can repeat: RefCOCO lines are sentences and share their ref's id.
using Texts = std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>>;

// GroundingItems of the predictions lines that carry a `correct` flag (items with ground truth).
// Predictions are in split order, so the k-th line with an id is the k-th annotation with it.
std::vector<GroundingItem> grounding_items(const std::string& predictions, const Texts& texts) {
  std::vector<GroundingItem> items;
  std::unordered_map<std::string, size_t> seen;
  for (const auto& j : read_jsonl(predictions)) {
    const std::string id = j.at("id");
    const auto it = texts.find(id);
    const size_t occurrence = seen[id]++;
    if (it == texts.end() || occurrence >= it->second.size())
      throw DataError(cat(predictions, ": item \"", id, "\" is not in its annotation file"));
    if (!j.contains("correct")) continue;
    const auto& [text, image] = it->second[occurrence];
    items.push_back({image, text, j.at("correct").get<bool>()});
  }
  return items;
}

}  // namespace

ResultRecord mt_vgc_from_results(const MtVgcOptions& o) {
  const std::string results_path = (fs::path(o.results_dir) / "results.jsonl").string();
  if (!fs::exists(results_path))
    throw DataError(cat(results_path, ": no such file (run evaluate --out ", o.results_dir, ")"));
  const ResultsFile file = read_results_file(results_path);
  const auto predictions_of = [&](const ResultRecord& r) {
    const std::string fallback =
        (fs::path(o.results_dir) / "predictions" / (r.task + "_" + r.split + ".jsonl")).string();
    std::string path = recorded_path(r, "predictions", fallback);
    if (!fs::exists(path)) path = fallback;  // the results directory was moved
    if (!fs::exists(path))
      throw DataError(cat(results_path, ": predictions of ", r.task, " not found at ", path));
    return path;
  };

  const auto vqa = last_result(file, "vqa", o.split);
  if (!vqa)
    throw DataError(
        cat(results_path, ": no vqa result for split ", o.split, " (run evaluate --task vqa)"));
  Texts questions;
  for (const auto& q : read_vqa_jsonl(annotation_file(*vqa, o, results_path)))
    questions[q.question_id].emplace_back(q.question, q.image_id);
  const auto question_items = grounding_items(predictions_of(*vqa), questions);

  ResultRecord record;
  record.run = vqa->run;
  record.task = kMtVgcTask;
  record.split = o.split;
  record.metric = "mt_vgc";
  std::vector<GroundingItem> all_expressions;
  for (const std::string task : {"refcoco", "refcoco+"}) {
    const auto ref = last_result(file, task, o.split);
    if (!ref) continue;
    Texts expressions;
    for (const auto& r : read_referring_jsonl(annotation_file(*ref, o, results_path)))
      expressions[r.ref_id].emplace_back(r.expression, r.image_id);
    const auto items = grounding_items(predictions_of(*ref), expressions);
    record.extras[task] = mt_vgc(question_items, items, o.use_fallback).score;
    all_expressions.insert(all_expressions.end(), items.begin(), items.end());
  }
  if (record.extras.empty())
    throw DataError(cat(results_path, ": no refcoco or refcoco+ result for split ", o.split,
                        " (run evaluate --task refcoco and/or refcoco+)"));
  const MtVgcResult m = mt_vgc(question_items, all_expressions, o.use_fallback);
  record.score = m.score;
  record.n = m.pairs;
  record.extras["images"] = m.images;
  record.extras["total_weight"] = m.total_weight;
  record.extras["questions"] = question_items.size();
  record.extras["expressions"] = all_expressions.size();
  return record;
}

}  // namespace vlmt

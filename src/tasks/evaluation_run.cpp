#include "tasks/evaluation_run.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>

#include "core/error.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "distributed/runtime.h"
#include "data/vqa_ids.h"
#include "tasks/task_data.h"
#include "tasks/task_kind.h"

namespace fs = std::filesystem;

namespace vlmt {

EvaluationRun::EvaluationRun(const RunConfig& config, const TaskSpec& spec, MultiTaskModelImpl& model,
                             Communicator& comm, torch::Device device, std::string split_file,
                             std::string split_label, std::string out_dir, int64_t max_items)
    : config(config), spec(spec), model(model), comm(comm), device(device), split_file(std::move(split_file)),
      split_label(std::move(split_label)), out_dir(std::move(out_dir)), max_items(max_items) {}

std::unique_ptr<TaskDataset> EvaluationRun::open_dataset() const {
  auto dataset = make_task_dataset(spec, split_file, config.data, config.tasks.of(spec.key), config.model);
  // Weights scored on region features other than those they were trained on give numbers that
  // mean nothing, and nothing else would notice.
  const auto changed = fingerprint_mismatches(model.provenance.feature_fingerprints,
                                              feature_fingerprints(dataset->context()));
  if (!changed.empty()) {
    const std::string what = cat(model.provenance.source, ": ", changed.front());
    if (!config.data.allow_fingerprint_mismatch)
      throw DataError(cat(what, "; evaluating on other features than the training ones needs --allow-feature-mismatch"));
    if (comm.rank() == 0) log::warn(cat(what, " (--allow-feature-mismatch)"));
  }
  // Ids the submission file cannot hold are reported now, by every rank, not after the run.
  if (spec.submission == kVqaSubmissionFormat)
    for (int64_t i = 0; i < dataset->size(); ++i) vqa_question_id(dataset->item_id(i), dataset->context().annotation_path);
  return dataset;
}

int64_t EvaluationRun::items(const TaskDataset& dataset) const {
  split_items_ = dataset.size();
  evaluated_items_ = max_items > 0 ? std::min<int64_t>(max_items, split_items_) : split_items_;
  return evaluated_items_;
}

int64_t EvaluationRun::rank_batch() const {
  return std::max<int64_t>(1, config.tasks.of(spec.key).batch_size / comm.size());
}

std::vector<nlohmann::json> EvaluationRun::gather_items(const std::vector<nlohmann::json>& mine,
                                                        const std::string& tag) const {
  fs::create_directories(out_dir);
  const auto part = [&](int r) { return fs::path(out_dir) / cat(".", tag, ".rank", r, ".jsonl"); };
  {
    std::ofstream out(part(comm.rank()));
    for (const auto& j : mine) out << j.dump() << '\n';
  }
  comm.barrier();
  std::vector<nlohmann::json> all;
  if (comm.rank() == 0) {
    for (int r = 0; r < comm.size(); ++r) {
      for (const auto& j : read_jsonl(part(r).string())) all.push_back(j);
      fs::remove(part(r));
    }
  }
  comm.barrier();
  return all;
}

std::string EvaluationRun::write_item_predictions(std::vector<nlohmann::json>& items) const {
  // Ranks interleave items; the file lists them in split order.
  std::sort(items.begin(), items.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) { return a["index"] < b["index"]; });
  for (auto& j : items) j.erase("index");
  const fs::path dir = fs::path(out_dir) / "predictions";
  fs::create_directories(dir);
  const std::string path = (dir / (spec.key + "_" + split_label + ".jsonl")).string();
  write_predictions_jsonl(path, items);
  return path;
}

namespace {

using SubmissionWriter = std::function<void(const std::string& stem, const std::vector<nlohmann::json>& items)>;

// The evaluation servers' formats (docs/EVALUATION.md), by the name TaskSpec::submission gives.
const std::map<std::string, std::pair<std::string, SubmissionWriter>>& submission_formats() {
  static const std::map<std::string, std::pair<std::string, SubmissionWriter>> formats = {
      {kVqaSubmissionFormat, {".json", [](const std::string& path, const std::vector<nlohmann::json>& all) {
         std::vector<std::pair<int64_t, std::string>> v;
         for (const auto& j : all) v.emplace_back(vqa_question_id(j["id"].get<std::string>(), path), j["answer"]);
         write_vqa_submission(path, v);
       }}},
      {"gqa", {".json", [](const std::string& path, const std::vector<nlohmann::json>& all) {
         std::vector<std::pair<std::string, std::string>> v;
         for (const auto& j : all) v.emplace_back(j["id"], j["answer"]);
         write_gqa_submission(path, v);
       }}},
      {"nlvr2", {".csv", [](const std::string& path, const std::vector<nlohmann::json>& all) {
         std::vector<std::pair<std::string, bool>> v;
         for (const auto& j : all) v.emplace_back(j["id"], j["prediction"].get<int64_t>() == 1);
         write_nlvr2_predictions(path, v);
       }}},
  };
  return formats;
}

// The image ids of item k of a batch: one per row of the item.
void add_images(nlohmann::json& item, const Batch& b, int64_t k) {
  if (b.rows_per_item == 1) {
    item["image_id"] = b.image_ids.at(k);
    return;
  }
  item["image_ids"] = std::vector<std::string>(b.image_ids.begin() + k * b.rows_per_item,
                                               b.image_ids.begin() + (k + 1) * b.rows_per_item);
}

}  // namespace

std::vector<std::string> submission_format_names() {
  std::vector<std::string> names;
  for (const auto& [name, format] : submission_formats()) names.push_back(name);
  return names;
}

std::string EvaluationRun::write_submission(const std::vector<nlohmann::json>& items) const {
  if (spec.submission.empty()) return "";
  const auto it = submission_formats().find(spec.submission);
  if (it == submission_formats().end())
    throw ConfigError(cat("task ", spec.key, ": unknown submission format \"", spec.submission, "\""));
  const fs::path dir = fs::path(out_dir) / "submissions";
  fs::create_directories(dir);
  const std::string stem = cat(spec.key, "_", split_label, truncated() ? ".partial" : "");
  const std::string path = (dir / (stem + it->second.first)).string();
  if (truncated())
    log::warn(cat(path, ": ", evaluated_items_, " of the split's ", split_items_,
                  " items (--max-items): incomplete, not a submission for the evaluation server"));
  it->second.second(path, items);
  return path;
}

ChanceLevel::ChanceLevel(bool answer_prior) : answer_prior_(answer_prior) {}

void ChanceLevel::add(const torch::Tensor& choice_scores, const std::vector<int64_t>& items) {
  if (items.empty()) return;
  const auto rows = choice_scores.index_select(0, torch::tensor(items, torch::kInt64));
  const auto available = rows.isnan().logical_not();
  if (answer_prior_) {
    const auto sums = rows.nan_to_num(0.0).sum(0);
    answer_sums_ = answer_sums_.defined() ? answer_sums_ + sums : sums;
  } else {
    // Each item's expected score under a uniform choice among its available choices.
    uniform_sum_ += (rows.nan_to_num(0.0).sum(1) / available.sum(1).clamp_min(1)).sum().item<double>();
  }
  items_ += static_cast<double>(items.size());
}

std::optional<double> ChanceLevel::percent(Communicator& comm) const {
  // Ranks agree on the layout first: a rank without judged items has no answer columns.
  const int64_t mine = answer_sums_.defined() ? answer_sums_.size(0) : 0;
  const auto width = static_cast<size_t>(comm.all_reduce_vector({static_cast<double>(mine)}, ReduceOp::kMax)[0]);
  std::vector<double> sums = {items_, uniform_sum_};
  sums.resize(2 + width, 0.0);
  for (int64_t c = 0; c < mine; ++c) sums[2 + c] = answer_sums_[c].item<double>();
  sums = comm.all_reduce_vector(sums);
  if (sums[0] == 0) return std::nullopt;
  if (!answer_prior_) return 100.0 * sums[1] / sums[0];
  return 100.0 * *std::max_element(sums.begin() + 2, sums.end()) / sums[0];
}

ResultRecord evaluate_items(EvaluationRun& run) {
  const TaskKind& kind = kind_of(run.spec);
  auto dataset = run.open_dataset();
  const int64_t n = run.items(*dataset), batch = run.rank_batch();
  std::vector<int64_t> mine;
  for (int64_t i = run.comm.rank(); i < n; i += run.comm.size()) mine.push_back(i);
  RngDraws draws(DistRuntime::validation_seed(run.config.train.seed, run.comm.rank()));
  const auto judge = kind.make_judge(run, *dataset);
  double score_sum = 0, count = 0;  // over the items with ground truth
  ChanceLevel chance(kind.chance_is_answer_prior());
  std::vector<nlohmann::json> items;
  for (size_t start = 0; start < mine.size(); start += batch) {
    std::vector<int64_t> idx(mine.begin() + start, mine.begin() + std::min(mine.size(), start + batch));
    Batch b = dataset->get_batch(idx, draws).to(run.device);
    auto res = kind.compute(run.model, b);
    std::vector<int64_t> judged;  // items of the batch with ground truth
    for (int64_t k = 0; k < b.size; ++k) {
      nlohmann::json item = {{"index", idx[k]}, {"id", b.item_ids[k]}};
      add_images(item, b, k);
      item["prediction"] = res.prediction[k].item<int64_t>();
      if (const auto score = judge->judge(item, b, res, k)) {
        score_sum += *score;
        count += 1;
        item["score"] = *score;
        item["correct"] = judge->correct(*score);
        judged.push_back(k);
      }
      items.push_back(std::move(item));
    }
    chance.add(kind.choice_scores(b, res), judged);
  }
  auto totals = run.comm.all_reduce_vector({score_sum, count});
  ResultRecord r;
  r.metric = metric_of(run.spec);
  r.n = static_cast<int64_t>(totals[1]);
  r.score = totals[1] > 0 ? 100.0 * totals[0] / totals[1] : 0.0;
  // A split without labels (VQA/GQA test-dev) scores nothing: only the submission counts.
  r.extras["has_ground_truth"] = totals[1] > 0;
  if (const auto level = chance.percent(run.comm)) r.extras["chance"] = *level;
  r.extras["annotations"] = dataset->context().annotation_path;

  auto all = run.gather_items(items, run.spec.key + "_" + run.split_label);
  if (run.comm.rank() == 0) {
    r.extras["predictions"] = run.write_item_predictions(all);
    run.write_submission(all);
  }
  return r;
}

}  // namespace vlmt

#include "eval/evaluator.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "core/error.h"
#include "core/log.h"
#include "data/loader.h"
#include "eval/human_answer_score.h"
#include "eval/mt_vgc.h"
#include "eval/retrieval_recall.h"
#include "tasks/objective.h"

namespace fs = std::filesystem;

namespace vlmt {

std::vector<std::string> available_splits(const std::string& data_root, const std::string& task_key) {
  std::vector<std::string> splits;
  const fs::path dir = fs::path(data_root) / "annotations" / task_key;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".jsonl") splits.push_back(e.path().stem().string());
  std::sort(splits.begin(), splits.end());
  return splits;
}

Evaluator::Evaluator(const RunConfig& config, MultiTaskModel model, Communicator& comm, torch::Device device)
    : config_(config), model_(std::move(model)), comm_(comm), device_(device),
      data_root_(resolve_data_root(config.data)) {
  model_->eval();
}

std::string Evaluator::split_file(const TaskSpec& spec, const std::string& split) const {
  const std::string name = split == "val" ? config_.tasks.of(spec.key).val_split : split;
  const auto path = fs::path(data_root_) / "annotations" / spec.key / (name + ".jsonl");
  if (!fs::exists(path)) {
    std::string have;
    for (const auto& s : available_splits(data_root_, spec.key)) have += (have.empty() ? "" : ", ") + s;
    throw DataError(cat(spec.key, ": split \"", split, "\" not found (", path.string(), "); available: ",
                        have.empty() ? "none" : have));
  }
  return name;
}

std::vector<std::string> Evaluator::answer_vocabulary(const TaskSpec& spec) const {
  // VG QA shares VQA's vocabulary; its own directory may hold a copy.
  for (const std::string dir : {spec.key, std::string("vqa")}) {
    const auto path = fs::path(data_root_) / "annotations" / dir / "answers.json";
    if (!fs::exists(path)) continue;
    std::ifstream in(path);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("answers")) throw DataError(cat(path.string(), ": not an answers.json"));
    return j["answers"].get<std::vector<std::string>>();
  }
  throw DataError(cat(spec.key, ": no answers.json under ", data_root_, "/annotations/", spec.key));
}

std::vector<nlohmann::json> Evaluator::gather_items(const std::vector<nlohmann::json>& mine,
                                                    const std::string& out_dir, const std::string& tag) {
  fs::create_directories(out_dir);
  const auto part = [&](int r) { return fs::path(out_dir) / cat(".", tag, ".rank", r, ".jsonl"); };
  {
    std::ofstream out(part(comm_.rank()));
    for (const auto& j : mine) out << j.dump() << '\n';
  }
  comm_.barrier();
  std::vector<nlohmann::json> all;
  if (comm_.rank() == 0) {
    for (int r = 0; r < comm_.size(); ++r) {
      for (const auto& j : read_jsonl(part(r).string())) all.push_back(j);
      fs::remove(part(r));
    }
  }
  comm_.barrier();
  return all;
}

ResultRecord Evaluator::evaluate(const std::string& task_key, const EvaluationOptions& o) {
  const TaskSpec& spec = task_by_key(task_key);
  const std::string split = split_file(spec, o.split);
  torch::NoGradGuard no_grad;
  ResultRecord r = spec.type == TaskType::kVLLogit ? evaluate_retrieval(spec, split, o)
                                                   : evaluate_by_objective(spec, split, o);
  r.run = o.run_name;
  r.task = spec.key;
  r.split = o.split;
  if (comm_.rank() == 0) {
    append_result((fs::path(o.out_dir) / "results.jsonl").string(), r);
    log::info0(cat("evaluate ", spec.key, " ", o.split, ": ", r.metric, " = ", r.score, " (n = ", r.n, ")"));
  }
  return r;
}

namespace {

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

ResultRecord Evaluator::evaluate_by_objective(const TaskSpec& spec, const std::string& split,
                                              const EvaluationOptions& o) {
  const TaskHyper& hyper = config_.tasks.of(spec.key);
  auto dataset = make_task_dataset(spec.key, split, config_.data, hyper, config_.model);
  auto objective = make_objective(spec.type);
  const int64_t n = o.max_items > 0 ? std::min<int64_t>(o.max_items, dataset->size()) : dataset->size();
  const int64_t batch = std::max<int64_t>(1, hyper.batch_size / comm_.size());
  std::vector<int64_t> mine;
  for (int64_t i = comm_.rank(); i < n; i += comm_.size()) mine.push_back(i);
  std::mt19937_64 rng(config_.train.seed * 31 + comm_.rank());
  const bool vocab_task = spec.type == TaskType::kVLClassifier || spec.type == TaskType::kVLClassifierGQA;
  const auto answers = vocab_task ? answer_vocabulary(spec) : std::vector<std::string>{};
  // Vocabulary tasks are scored from the raw human answers with the official metric; the soft
  // targets the objective scores against are the training proxy only.
  std::optional<HumanAnswerScorer> humans;
  if (vocab_task) {
    humans.emplace(dataset->context().annotation_path, HumanAnswerScorer::exact_match_for(spec.key));
    if (humans->labelled_without_answers() > 0 && comm_.rank() == 0)
      log::warn(cat(dataset->context().annotation_path, ": ", humans->labelled_without_answers(),
                    " question(s) have labels but no raw \"answers\" and are not scored (re-convert "
                    "with tools/convert/annotations.py to keep the human answers)"));
  }
  double score_sum = 0, count = 0;  // over the items with ground truth
  std::vector<nlohmann::json> items;
  for (size_t start = 0; start < mine.size(); start += batch) {
    std::vector<int64_t> idx(mine.begin() + start, mine.begin() + std::min(mine.size(), start + batch));
    Batch b = dataset->get_batch(idx, rng).to(device_);
    auto res = objective->compute(*model_, b);
    // Unlabelled items (test splits) have an all-zero target row; a referring expression always
    // has its box, so an all-zero row there is a miss, not a missing label.
    const auto labelled = (b.target.view({b.size, -1}).sum(1) > 0).cpu();
    for (int64_t k = 0; k < b.size; ++k) {
      const int64_t p = res.prediction[k].item<int64_t>();
      nlohmann::json item = {{"index", idx[k]}, {"id", b.item_ids[k]}};
      add_images(item, b, k);
      item["prediction"] = p;
      std::optional<double> score;
      if (vocab_task) {
        const std::string answer = p < static_cast<int64_t>(answers.size()) ? answers[p] : "";
        item["answer"] = answer;
        score = humans->score(b.item_ids[k], answer);
      } else if (spec.type == TaskType::kVLogit || labelled[k].item<bool>()) {
        score = res.item_scores[k].item<double>();
      }
      if (score) {
        score_sum += *score;
        count += 1;
        item["score"] = *score;
        // A question is right when fully right under the VQA metric (MT-VGC's y(q)); a hit
        // elsewhere scores 1.
        item["correct"] = vocab_task ? vqa_answer_right(*score) : *score > 0.5;
      }
      items.push_back(std::move(item));
    }
  }
  auto totals = comm_.all_reduce_vector({score_sum, count});
  ResultRecord r;
  r.metric = spec.metric;
  r.n = static_cast<int64_t>(totals[1]);
  r.score = totals[1] > 0 ? 100.0 * totals[0] / totals[1] : 0.0;
  // A split without labels (VQA/GQA test-dev) scores nothing: only the submission counts.
  r.extras["has_ground_truth"] = totals[1] > 0;
  r.extras["annotations"] = dataset->context().annotation_path;

  auto all = gather_items(items, o.out_dir, spec.key + "_" + o.split);
  if (comm_.rank() == 0) {
    r.extras["predictions"] = write_item_predictions(spec, o, all);
    const fs::path sub = fs::path(o.out_dir) / "submissions";
    const std::string stem = (sub / (spec.key + "_" + o.split)).string();
    if (spec.key == "vqa" || spec.key == "gqa" || spec.key == "nlvr2") fs::create_directories(sub);
    if (spec.key == "vqa") {
      std::vector<std::pair<int64_t, std::string>> v;
      for (const auto& j : all) {
        const std::string id = j["id"];
        const bool numeric = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
        v.emplace_back(numeric ? std::stoll(id) : static_cast<int64_t>(v.size()), j["answer"]);
      }
      write_vqa_submission(stem + ".json", v);
    } else if (spec.key == "gqa") {
      std::vector<std::pair<std::string, std::string>> v;
      for (const auto& j : all) v.emplace_back(j["id"], j["answer"]);
      write_gqa_submission(stem + ".json", v);
    } else if (spec.key == "nlvr2") {
      std::vector<std::pair<std::string, bool>> v;
      for (const auto& j : all) v.emplace_back(j["id"], j["prediction"].get<int64_t>() == 1);
      write_nlvr2_predictions(stem + ".csv", v);
    }
  }
  return r;
}

std::string Evaluator::write_item_predictions(const TaskSpec& spec, const EvaluationOptions& o,
                                              std::vector<nlohmann::json>& items) const {
  // Ranks interleave items; the file lists them in split order.
  std::sort(items.begin(), items.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) { return a["index"] < b["index"]; });
  for (auto& j : items) j.erase("index");
  const fs::path dir = fs::path(o.out_dir) / "predictions";
  fs::create_directories(dir);
  const std::string path = (dir / (spec.key + "_" + o.split + ".jsonl")).string();
  write_predictions_jsonl(path, items);
  return path;
}

ResultRecord Evaluator::evaluate_retrieval(const TaskSpec& spec, const std::string& split,
                                           const EvaluationOptions& o) {
  const TaskHyper& hyper = config_.tasks.of(spec.key);
  std::shared_ptr<const TaskDataset> dataset = make_task_dataset(spec.key, split, config_.data, hyper, config_.model);
  const auto* scoring = dynamic_cast<const RetrievalScoring*>(dataset.get());
  if (!scoring) throw Error(ExitCode::kFailure, cat(spec.key, ": dataset cannot score captions against images"));
  const auto& images = scoring->split_images();
  const int64_t captions = o.max_items > 0 ? std::min<int64_t>(o.max_items, dataset->size()) : dataset->size();
  // Every caption against every image of the split, rows split over ranks.
  auto [begin, end] = score_rows_of_rank(captions, comm_.rank(), comm_.size());
  const int64_t m = static_cast<int64_t>(images.size());
  auto block = torch::zeros({end - begin, m});
  std::vector<int64_t> gt_local(captions, 0);
  // A forward pass scores several captions against a chunk of images, as many rows as one
  // training batch (batch_size items x 4 options), so memory stays within what training needs
  // while the per-pass overhead is spread over many rows; each image's regions are built once
  // per pass (captions_vs_images).
  const int64_t rows = std::max<int64_t>(1, 4 * hyper.batch_size);
  const int64_t chunk = std::min(m, rows);
  const int64_t group = std::max<int64_t>(1, rows / std::max<int64_t>(1, chunk));
  for (int64_t c0 = begin; c0 < end; c0 += group) {
    std::vector<int64_t> group_captions;
    for (int64_t c = c0; c < std::min(end, c0 + group); ++c) group_captions.push_back(c);
    const int64_t g = static_cast<int64_t>(group_captions.size());
    for (int64_t start = 0; start < m; start += chunk) {
      const int64_t width = std::min(chunk, m - start);
      std::vector<std::string> ids(images.begin() + start, images.begin() + start + width);
      Batch b = scoring->captions_vs_images(group_captions, ids).to(device_);
      auto logits = model_->retrieval_logits(model_->forward(b)).view({g, width}).to(torch::kCPU);
      block.narrow(0, c0 - begin, g).narrow(1, start, width).copy_(logits);
      for (int64_t k = 0; k < g; ++k) {
        const int64_t own = b.target[k].item<int64_t>();
        if (own >= 0) gt_local[c0 + k] = start + own + 1;  // +1: 0 = not in this chunk
      }
    }
  }
  auto scores = assemble_score_matrix(comm_, block, begin, captions);
  auto gt_tensor = torch::tensor(gt_local, torch::kInt64);
  comm_.all_reduce(gt_tensor);
  std::vector<int64_t> gt(captions);
  for (int64_t c = 0; c < captions; ++c) gt[c] = gt_tensor[c].item<int64_t>() - 1;
  auto recall = image_retrieval_recall(scores, gt);
  ResultRecord r;
  r.metric = spec.metric;
  r.score = recall.r1;
  r.n = recall.n;
  r.extras = {{"r1", recall.r1}, {"r5", recall.r5}, {"r10", recall.r10}, {"images", images.size()},
              {"annotations", dataset->context().annotation_path}};
  if (comm_.rank() == 0) {
    // Per caption: its image's rank (stable descending order, as image_retrieval_recall) and
    // the top-ranked image.
    std::vector<nlohmann::json> items;
    for (int64_t c = 0; c < captions; ++c) {
      const auto row = scores[c];
      nlohmann::json item = {{"index", c}, {"id", dataset->item_id(c)},
                             {"top_image", images.at(row.argmax().item<int64_t>())}};
      if (gt[c] >= 0) {
        const auto own = row[gt[c]];
        const int64_t rank = 1 + row.gt(own).sum().item<int64_t>() +
                             row.narrow(0, 0, gt[c]).eq(own).sum().item<int64_t>();
        item["image_id"] = images[gt[c]];
        item["rank"] = rank;
        item["correct"] = rank == 1;
      }
      items.push_back(std::move(item));
    }
    r.extras["predictions"] = write_item_predictions(spec, o, items);
  }
  return r;
}

}  // namespace vlmt

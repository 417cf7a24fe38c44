// VL-logit (caption-based image retrieval, COCO and Flickr30k): one alignment score per
// (caption, image) pair; trained as 4-way multiple choice, evaluated by ranking every image of
// the split for every caption (recall@1/5/10).
#include <filesystem>
#include <unordered_map>

#include "core/error.h"
#include "data/task_datasets.h"
#include "eval/retrieval_recall.h"
#include "model/pair_forward.h"
#include "tasks/evaluation_run.h"
#include "tasks/kind_util.h"
#include "tasks/kinds.h"

namespace vlmt {
namespace {

namespace F = torch::nn::functional;
namespace fs = std::filesystem;
using namespace kind_util;

class RetrievalKind : public TaskKind {
 public:
  std::string name() const override { return "VL-logit"; }
  std::string default_metric() const override { return "recall@1"; }
  std::string head() const override { return "vil_logit"; }

  std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec&,
                                            const DatasetSources&) const override {
    return std::make_unique<RetrievalDataset>(std::move(ctx));
  }
  void check_annotations(const std::string& path) const override { read_retrieval_jsonl(path); }
  bool is_side_file(const std::string& file_name) const override {
    const std::string suffix = kHardPoolSuffix;
    return file_name.size() > suffix.size() && file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  void check_side_files(const std::string& data_root, const TaskSpec& spec) const override {
    const fs::path dir = fs::path(data_root) / "annotations" / spec.key;
    if (!fs::is_directory(dir)) return;
    for (const auto& entry : fs::directory_iterator(dir))
      if (is_side_file(entry.path().filename().string())) read_hard_pool_jsonl(entry.path().string());
  }

  // 4-way multiple choice (positive + 3 negatives), cross-entropy.
  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto logits = m.retrieval_logits(m.forward(b)).view({b.size, b.rows_per_item});
    return score_argmax(F::cross_entropy(logits, b.target), logits,
                        [&](const torch::Tensor& p) { return p.eq(b.target); });
  }

  int random_rows_per_item() const override { return RetrievalDataset::kOptions; }
  void fill_random_targets(Batch& b, const ModelConfig&, int64_t, torch::ScalarType) const override {
    b.target = torch::randint(0, RetrievalDataset::kOptions, {b.size}, torch::kInt64);
  }

  ResultRecord evaluate(EvaluationRun& run) const override;

  std::vector<std::string> inference_images(const TaskSpec&, std::vector<std::string> requested,
                                            const std::vector<std::string>& all_images) const override {
    return requested.empty() ? all_images : requested;  // rank the given images, else all of them
  }
  nlohmann::json format_inference(MultiTaskModelImpl& m, const ModelOutput& out, const Batch&,
                                  const InferenceContext& ctx) const override {
    auto scores = m.retrieval_logits(out).view({-1});
    auto order = scores.argsort(0, /*descending=*/true);
    nlohmann::json j;
    for (int64_t k = 0; k < std::min<int64_t>(ctx.top, order.size(0)); ++k) {
      const int64_t i = order[k].item<int64_t>();
      j["ranking"].push_back({{"image_id", ctx.image_ids[i]}, {"score", scores[i].item<double>()}});
    }
    return j;
  }
};

ResultRecord RetrievalKind::evaluate(EvaluationRun& run) const {
  std::shared_ptr<const TaskDataset> dataset = run.open_dataset();
  const auto* scoring = dynamic_cast<const RetrievalScoring*>(dataset.get());
  if (!scoring) throw Error(ExitCode::kFailure, cat(run.spec.key, ": dataset cannot score captions against images"));
  const auto& images = scoring->split_images();
  const int64_t captions = run.items(*dataset);
  Communicator& comm = run.comm;
  // Every caption against every image of the split, rows split over ranks. The layers before
  // the first co-attention see one stream only (model/vilbert.h), so each image is encoded once
  // (kept for the whole split) and each caption once per group; only the joint rest of the trunk
  // runs per (caption, image) pair. A pass pairs several captions with a chunk of images, as
  // many rows as one training batch (batch_size items x 4 options), so memory stays within what
  // training needs while the per-pass overhead is spread over many rows.
  auto [begin, end] = score_rows_of_rank(captions, comm.rank(), comm.size());
  const int64_t m = static_cast<int64_t>(images.size());
  auto block = torch::zeros({end - begin, m});
  std::unordered_map<std::string, int64_t> image_index;
  for (int64_t i = 0; i < m; ++i) image_index.emplace(images[i], i);
  std::vector<int64_t> gt_local(captions, 0);
  const int64_t rows = std::max<int64_t>(1, RetrievalDataset::kOptions * run.config.tasks.of(run.spec.key).batch_size);
  const auto [chunk, group] = pair_passes(m, rows);
  std::vector<StreamEncoding> image_chunks;
  for (int64_t start = 0; start < m; start += chunk) {
    const int64_t width = std::min(chunk, m - start);
    std::vector<std::string> ids(images.begin() + start, images.begin() + start + width);
    image_chunks.push_back(run.model.encode_image(scoring->image_rows(ids).to(run.device)));
  }
  for (int64_t c0 = begin; c0 < end; c0 += group) {
    std::vector<int64_t> group_captions;
    for (int64_t c = c0; c < std::min(end, c0 + group); ++c) group_captions.push_back(c);
    const int64_t g = static_cast<int64_t>(group_captions.size());
    const Batch text_rows = scoring->caption_rows(group_captions);
    for (int64_t k = 0; k < g; ++k) {
      const auto own = image_index.find(text_rows.image_ids[k]);
      if (own != image_index.end()) gt_local[c0 + k] = own->second + 1;  // +1: 0 = not in the split
    }
    const StreamEncoding text = run.model.encode_text(text_rows.to(run.device));
    for (size_t chunk_index = 0; chunk_index < image_chunks.size(); ++chunk_index) {
      const StreamEncoding& image = image_chunks[chunk_index];
      const int64_t width = image.hidden.size(0), start = static_cast<int64_t>(chunk_index) * chunk;
      auto logits = run.model.retrieval_logits(forward_every_pair(run.model, text, image)).view({g, width});
      block.narrow(0, c0 - begin, g).narrow(1, start, width).copy_(logits.to(torch::kCPU));
    }
  }
  auto scores = assemble_score_matrix(comm, block, begin, captions);
  auto gt_tensor = torch::tensor(gt_local, torch::kInt64);
  comm.all_reduce(gt_tensor);
  std::vector<int64_t> gt(captions);
  for (int64_t c = 0; c < captions; ++c) gt[c] = gt_tensor[c].item<int64_t>() - 1;
  auto recall = image_retrieval_recall(scores, gt);
  ResultRecord r;
  r.metric = metric_of(run.spec);
  r.score = recall.r1;
  r.n = recall.n;
  r.extras = {{"r1", recall.r1}, {"r5", recall.r5}, {"r10", recall.r10}, {"images", images.size()},
              {"annotations", dataset->context().annotation_path},
              {"chance", images.empty() ? 0.0 : 100.0 / static_cast<double>(images.size())}};  // R@1 of a uniform ranking
  if (comm.rank() == 0) {
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
    r.extras["predictions"] = run.write_item_predictions(items);
  }
  return r;
}

}  // namespace

const TaskKind& retrieval_kind() {
  static const RetrievalKind kind;
  return kind;
}

}  // namespace vlmt

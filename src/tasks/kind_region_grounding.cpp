// V-logit (RefCOCO, RefCOCO+, RefCOCOg): a score for every image region (the IMG region
// included); trained with BCE against each region's IoU with the referred box (zeroed below 0.5
// in training; the ground-truth boxes of the image are appended after the detections there);
// right when the argmax region's IoU > 0.5.
#include "data/task_datasets.h"
#include "tasks/kind_util.h"
#include "tasks/kinds.h"

namespace vlmt {
namespace {

using namespace kind_util;

class RegionGroundingKind : public TaskKind {
 public:
  std::string name() const override { return "V-logit"; }
  std::string head() const override { return "vision_logit"; }

  std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec&,
                                            const DatasetSources& src) const override {
    const bool append_gt = reads_gt_features(ctx.split, src.train);
    return std::make_unique<ReferringDataset>(std::move(ctx), append_gt);
  }
  // refer_expression_dataset.py appends the ground-truth boxes' features in training only.
  bool reads_gt_features(const std::string& split, const TrainConfig& train) const override {
    return train.referring_gt_regions && split == "train";
  }
  void check_annotations(const std::string& path) const override { read_referring_jsonl(path); }

  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto logits = m.region_logits(m.forward(b), b.image_mask);
    return score_argmax(scaled_bce(logits, b.target), logits,
                        [&](const torch::Tensor& p) { return target_at(b.target, p).gt(0.5); });
  }
  bool head_per_region() const override { return true; }
  std::optional<double> target_base_rate(const Batch& b) const override {
    return masked_mean(b.target, b.image_mask.gt(0));  // real regions, IMG included
  }
  // A region is a hit when its IoU with the referred box is above 0.5 (the rule above).
  torch::Tensor choice_scores(const Batch& b, const ObjectiveResult& r) const override {
    const auto iou = TaskKind::choice_scores(b, r);  // NaN where the region is not a choice
    return torch::where(iou.isnan(), iou, iou.gt(0.5).to(torch::kFloat64));
  }

  void fill_random_targets(Batch& b, const ModelConfig&, int64_t regions, torch::ScalarType dtype) const override {
    b.target = torch::zeros({b.size, regions}, dtype);
    b.target.select(1, 1).fill_(0.8);
  }

  // A referring expression always has its box: an all-zero target row is a miss, not a missing label.
  std::unique_ptr<ItemJudge> make_judge(const EvaluationRun&, const TaskDataset&) const override {
    return std::make_unique<ObjectiveJudge>(/*always=*/true);
  }

  nlohmann::json format_inference(MultiTaskModelImpl& m, const ModelOutput& out, const Batch& b,
                                  const InferenceContext& ctx) const override {
    return best_region_answer(m, out, b, ctx);
  }
};

}  // namespace

const TaskKind& region_grounding_kind() {
  static const RegionGroundingKind kind;
  return kind;
}

}  // namespace vlmt

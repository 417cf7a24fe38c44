// V-logit-mc (Visual7W, GuessWhat pointing): region scores of the candidate boxes, gathered by
// choice ids; BCE against each candidate's IoU with the answer (0 below 0.5); right when the best
// scored candidate is the one with the highest target (the answer).
#include "data/task_datasets.h"
#include "tasks/kind_util.h"
#include "tasks/kinds.h"

namespace vlmt {
namespace {

using namespace kind_util;

class RegionChoiceKind : public TaskKind {
 public:
  std::string name() const override { return "V-logit-mc"; }
  std::string head() const override { return "vision_logit"; }

  std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec&,
                                            const DatasetSources&) const override {
    return std::make_unique<PointingDataset>(std::move(ctx));
  }
  bool reads_gt_features(const std::string&, const TrainConfig&) const override { return true; }
  void check_annotations(const std::string& path) const override { read_pointing_jsonl(path); }

  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    // Items with fewer candidates pad choice_ids with -1: those choices get the -10000 mask
    // logit (and target 0), so they neither win the argmax nor add to the loss.
    const auto valid = b.choice_ids.ge(0);
    auto logits = m.region_logits(m.forward(b), b.image_mask).gather(1, b.choice_ids.clamp_min(0));
    logits = logits.masked_fill(valid.logical_not(), -10000.0);
    return argmax_against_target_argmax(scaled_bce(logits, b.target), logits, b.target);
  }
  bool head_per_region() const override { return true; }
  std::optional<double> target_base_rate(const Batch& b) const override {
    return masked_mean(b.target, b.choice_ids.ge(0));  // the item's candidates
  }

  void fill_random_targets(Batch& b, const ModelConfig&, int64_t, torch::ScalarType dtype) const override {
    b.choice_ids = torch::tensor({1, 2, 3, 4}, torch::kInt64).repeat({b.size, 1});
    b.target = onehot_targets(b.size, 4, 2, dtype);
  }

  nlohmann::json format_inference(MultiTaskModelImpl& m, const ModelOutput& out, const Batch& b,
                                  const InferenceContext& ctx) const override {
    return best_region_answer(m, out, b, ctx);
  }
};

}  // namespace

const TaskKind& region_choice_kind() {
  static const RegionChoiceKind kind;
  return kind;
}

}  // namespace vlmt

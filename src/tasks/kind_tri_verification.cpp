// VL-tri-classifier (SNLI-VE): does the image entail, contradict or leave open the hypothesis.
#include "data/annotations.h"
#include "data/task_datasets.h"
#include "tasks/kind_util.h"
#include "tasks/kinds.h"

namespace vlmt {
namespace {

using namespace kind_util;

class TriVerificationKind : public TaskKind {
 public:
  std::string name() const override { return "VL-tri-classifier"; }
  std::string head() const override { return "vil_tri_prediction"; }
  bool chance_is_answer_prior() const override { return true; }
  std::optional<double> target_base_rate(const Batch& b) const override { return b.target.mean().item<double>(); }

  std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec&,
                                            const DatasetSources&) const override {
    return std::make_unique<SnliVeDataset>(std::move(ctx));
  }
  void check_annotations(const std::string& path) const override { read_snli_ve_jsonl(path); }

  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto logits = m.tri_logits(m.forward(b));
    return target_at_argmax(mean_bce(logits, b.target), logits, b.target);  // not scaled (released)
  }
  // A row whose gold label is "-" (no annotator majority) is part of the split and a miss, as the
  // released evaluation counts it (its zero target scores 0); SNLI-VE has no hidden labels.
  std::unique_ptr<ItemJudge> make_judge(const EvaluationRun&, const TaskDataset&) const override {
    return std::make_unique<ObjectiveJudge>(/*always=*/true);
  }

  void fill_random_targets(Batch& b, const ModelConfig&, int64_t, torch::ScalarType dtype) const override {
    b.target = onehot_targets(b.size, 3, 0, dtype);
  }

  nlohmann::json format_inference(MultiTaskModelImpl& m, const ModelOutput& out, const Batch&,
                                  const InferenceContext&) const override {
    const auto& labels = kSnliVeLabels;  // the released class order
    auto p = torch::softmax(m.tri_logits(out)[0], 0);
    nlohmann::json j;
    j["label"] = labels[p.argmax().item<int64_t>()];
    for (int k = 0; k < 3; ++k) j["probabilities"][labels[k]] = p[k].item<double>();
    return j;
  }
};

}  // namespace

const TaskKind& tri_verification_kind() {
  static const TriVerificationKind kind;
  return kind;
}

}  // namespace vlmt

// VL-binary-classifier (NLVR2): one statement about a pair of images; the two images are
// consecutive rows, their fused vectors are concatenated for a true/false decision.
#include "core/error.h"
#include "data/task_datasets.h"
#include "tasks/kind_util.h"
#include "tasks/kinds.h"

namespace vlmt {
namespace {

using namespace kind_util;

class PairVerificationKind : public TaskKind {
 public:
  std::string name() const override { return "VL-binary-classifier"; }
  std::string head() const override { return "vil_binary_prediction"; }

  std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec&,
                                            const DatasetSources&) const override {
    return std::make_unique<Nlvr2Dataset>(std::move(ctx));
  }
  void check_annotations(const std::string& path) const override { read_nlvr2_jsonl(path); }
  int rows_per_inference_item() const override { return 2; }
  bool chance_is_answer_prior() const override { return true; }
  std::optional<double> target_base_rate(const Batch& b) const override { return b.target.mean().item<double>(); }

  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto logits = m.binary_logits(m.forward(b));
    return target_at_argmax(mean_bce(logits, b.target), logits, b.target);  // not scaled (released)
  }

  int random_rows_per_item() const override { return 2; }
  void fill_random_targets(Batch& b, const ModelConfig&, int64_t, torch::ScalarType dtype) const override {
    b.target = onehot_targets(b.size, 2, 1, dtype);
  }

  std::vector<std::string> inference_images(const TaskSpec& spec, std::vector<std::string> requested,
                                            const std::vector<std::string>&) const override {
    if (requested.size() != 2)
      throw ConfigError(cat("infer --task ", spec.key, " needs two images: --image-id LEFT,RIGHT"));
    return requested;
  }
  nlohmann::json format_inference(MultiTaskModelImpl& m, const ModelOutput& out, const Batch&,
                                  const InferenceContext&) const override {
    auto p = torch::softmax(m.binary_logits(out)[0], 0);
    return {{"label", p[1].item<double>() > 0.5}, {"probability_true", p[1].item<double>()}};
  }
};

}  // namespace

const TaskKind& pair_verification_kind() {
  static const PairVerificationKind kind;
  return kind;
}

}  // namespace vlmt

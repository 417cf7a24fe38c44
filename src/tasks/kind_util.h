#pragma once
// Pieces shared by the kind implementations (internal to src/tasks/).
#include <torch/torch.h>

#include <algorithm>
#include <optional>

#include "tasks/task_kind.h"

namespace vlmt::kind_util {

// BCE with logits averaged over all entries.
inline torch::Tensor mean_bce(const torch::Tensor& logits, const torch::Tensor& target) {
  namespace F = torch::nn::functional;
  return F::binary_cross_entropy_with_logits(logits, target.to(logits.scalar_type()));
}

// The mean BCE times the number of classes (target.size(1)): the released scaling of the
// classifier, V-logit and V-logit-mc kinds (task_utils.py ForwardModelsTrain). The two
// verification kinds use the plain mean_bce.
inline torch::Tensor scaled_bce(const torch::Tensor& logits, const torch::Tensor& target) {
  return mean_bce(logits, target) * target.size(1);
}

// The argmax prediction of `logits` with its per-item score (`item_score(prediction)`, a float
// tensor [size]); every head fills the result this way and differs only in the loss and the rule.
template <class ItemScore>
ObjectiveResult score_argmax(torch::Tensor loss, const torch::Tensor& logits, ItemScore item_score) {
  ObjectiveResult r;
  r.loss = std::move(loss);
  r.logits = logits.detach();
  r.prediction = r.logits.argmax(1);
  r.item_scores = item_score(r.prediction).to(torch::kFloat64).cpu();
  r.score_sum = r.item_scores.sum().item<double>();
  r.count = logits.size(0);
  return r;
}

// The target value of each item's predicted choice.
inline torch::Tensor target_at(const torch::Tensor& target, const torch::Tensor& prediction) {
  return target.gather(1, prediction.unsqueeze(1)).squeeze(1);
}

// Right = the argmax of the logits is the argmax of the target (task_utils.py's V-logit-mc
// score: the candidate with the highest target); `loss` is the kind's own.
inline ObjectiveResult argmax_against_target_argmax(torch::Tensor loss, const torch::Tensor& logits,
                                                    const torch::Tensor& target) {
  return score_argmax(std::move(loss), logits,
                      [&](const torch::Tensor& p) { return p.eq(target.argmax(1)); });
}

// Score = the target at the argmax of the logits (task_utils.py compute_score_with_logits: the
// one-hot prediction times the target), so an item whose target row is all zero (SNLI-VE's
// gold label "-") scores 0.
inline ObjectiveResult target_at_argmax(torch::Tensor loss, const torch::Tensor& logits, const torch::Tensor& target) {
  return score_argmax(std::move(loss), logits, [&](const torch::Tensor& p) { return target_at(target, p); });
}

// Mean of `values` over the entries where `valid` is true (0 when none is).
inline double masked_mean(const torch::Tensor& values, const torch::Tensor& valid) {
  const auto mask = valid.to(values.scalar_type());
  return (values * mask).sum().item<double>() / std::max(1.0, mask.sum().item<double>());
}

// One-hot target [size, classes] with every item on class `label`.
inline torch::Tensor onehot_targets(int64_t size, int64_t classes, int64_t label, torch::ScalarType dtype) {
  auto t = torch::zeros({size, classes}, dtype);
  t.select(1, label).fill_(1.0);
  return t;
}

// Items judged by the objective's per-item score; `always` = every item has ground truth (a
// referring expression always has its box, so an all-zero target row is a miss), else items
// whose target row is all zero (unlabelled test items) get no score.
class ObjectiveJudge : public ItemJudge {
 public:
  explicit ObjectiveJudge(bool always) : always_(always) {}
  std::optional<double> judge(nlohmann::json&, const Batch& b, const ObjectiveResult& r, int64_t k) const override {
    if (!always_ && !(b.target[k].sum().item<double>() > 0)) return std::nullopt;
    return r.item_scores[k].item<double>();
  }

 private:
  bool always_;
};

std::vector<double> to_vector(const torch::Tensor& t);

}  // namespace vlmt::kind_util

namespace vlmt::kind_util {

// `infer`'s answer of the region kinds: the best region (never the IMG region, which stands for
// the whole image), its box and its probability.
nlohmann::json best_region_answer(MultiTaskModelImpl& m, const ModelOutput& out, const Batch& batch,
                                  const InferenceContext& ctx);

}  // namespace vlmt::kind_util

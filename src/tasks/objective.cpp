#include "tasks/objective.h"

#include "core/error.h"

namespace F = torch::nn::functional;

namespace vlmt {
namespace {

// BCE with logits averaged over all entries, times the number of classes: the released
// scaling for every sigmoid-output head.
torch::Tensor scaled_bce(const torch::Tensor& logits, const torch::Tensor& target) {
  return F::binary_cross_entropy_with_logits(logits, target.to(logits.scalar_type())) * target.size(1);
}

// The argmax prediction of `logits` with its per-item score (`item_score(prediction)`, a float
// tensor [size]); every head fills the result this way and differs only in the loss and the rule.
template <class ItemScore>
ObjectiveResult score_argmax(torch::Tensor loss, const torch::Tensor& logits,
                             ItemScore item_score) {
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
torch::Tensor target_at(const torch::Tensor& target, const torch::Tensor& prediction) {
  return target.gather(1, prediction.unsqueeze(1)).squeeze(1);
}

ObjectiveResult argmax_against_onehot(const torch::Tensor& logits, const torch::Tensor& target) {
  return score_argmax(scaled_bce(logits, target), logits,
                      [&](const torch::Tensor& p) { return p.eq(target.argmax(1)); });
}

// VQA, VG QA, GQA: multi-label soft targets; batch score = target score of the argmax answer
// (the training-time proxy; evaluate scores the raw human answers with the official metric).
class VocabClassifier : public TaskObjective {
 public:
  explicit VocabClassifier(bool gqa) : gqa_(gqa) {}
  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto out = m.forward(b);
    auto logits = gqa_ ? m.gqa_logits(out) : m.vqa_logits(out);
    TORCH_CHECK(logits.sizes() == b.target.sizes(), "answer targets ", b.target.sizes(), " do not match logits ",
                logits.sizes());
    return score_argmax(scaled_bce(logits, b.target), logits,
                        [&](const torch::Tensor& p) { return target_at(b.target, p); });
  }

 private:
  bool gqa_;
};

// Retrieval: 4-way multiple choice (positive + 3 hard negatives), cross-entropy.
class RetrievalLogit : public TaskObjective {
 public:
  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto logits = m.retrieval_logits(m.forward(b)).view({b.size, b.rows_per_item});
    return score_argmax(F::cross_entropy(logits, b.target), logits,
                        [&](const torch::Tensor& p) { return p.eq(b.target); });
  }
};

// RefCOCO/+/g: BCE over all regions against IoU targets; right when the argmax region's IoU > 0.5.
class RegionLogit : public TaskObjective {
 public:
  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto logits = m.region_logits(m.forward(b), b.image_mask);
    return score_argmax(scaled_bce(logits, b.target), logits,
                        [&](const torch::Tensor& p) { return target_at(b.target, p).gt(0.5); });
  }
};

// Visual7W, GuessWhat: region logits of the candidate boxes gathered by choice ids.
class RegionChoice : public TaskObjective {
 public:
  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    // Items with fewer candidates pad choice_ids with -1: those choices get the -10000 mask
    // logit (and target 0), so they neither win the argmax nor add to the loss.
    const auto valid = b.choice_ids.ge(0);
    auto logits = m.region_logits(m.forward(b), b.image_mask).gather(1, b.choice_ids.clamp_min(0));
    logits = logits.masked_fill(valid.logical_not(), -10000.0);
    return argmax_against_onehot(logits, b.target);
  }
};

class BinaryVerification : public TaskObjective {
 public:
  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    return argmax_against_onehot(m.binary_logits(m.forward(b)), b.target);
  }
};

class TriVerification : public TaskObjective {
 public:
  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    return argmax_against_onehot(m.tri_logits(m.forward(b)), b.target);
  }
};

}  // namespace

std::unique_ptr<TaskObjective> make_objective(TaskType type) {
  switch (type) {
    case TaskType::kVLClassifier: return std::make_unique<VocabClassifier>(false);
    case TaskType::kVLClassifierGQA: return std::make_unique<VocabClassifier>(true);
    case TaskType::kVLLogit: return std::make_unique<RetrievalLogit>();
    case TaskType::kVLogit: return std::make_unique<RegionLogit>();
    case TaskType::kVLogitMC: return std::make_unique<RegionChoice>();
    case TaskType::kVLBinaryClassifier: return std::make_unique<BinaryVerification>();
    case TaskType::kVLTriClassifier: return std::make_unique<TriVerification>();
  }
  throw Error(ExitCode::kFailure, "unknown task type");
}

PretrainResult pretrain_objective(MultiTaskModelImpl& m, const Batch& b) {
  auto out = m.forward(b);
  PretrainResult r;
  // Masked words: cross-entropy over masked positions only (labels -1 elsewhere, and everywhere
  // on misaligned pairs, where the data layer sets no labels).
  auto word_logits = m.cls->predictions(out.trunk.text);
  auto lm = F::cross_entropy(word_logits.view({-1, word_logits.size(-1)}), b.lm_labels.view({-1}),
                             F::CrossEntropyFuncOptions().ignore_index(-1));
  const bool any_words = b.lm_labels.ge(0).any().item<bool>();
  if (!any_words) lm = word_logits.sum() * 0.0;
  // Masked regions: KL(detector distribution || predicted distribution) on masked regions.
  auto region_logp = torch::log_softmax(m.cls->imagePredictions(out.trunk.image), -1);
  auto masked = b.region_masked.to(region_logp.scalar_type());
  auto target = b.region_targets.to(region_logp.scalar_type());
  auto kl = (target * (torch::log(target.clamp_min(1e-12)) - region_logp)).sum(-1);  // [rows, R]
  auto n_masked = masked.sum();
  auto region = (kl * masked).sum() / n_masked.clamp_min(1.0);
  // Alignment prediction on the fused vector.
  auto align_logits = m.cls->bi_seq_relationship(out.fused);
  auto align = F::cross_entropy(align_logits, b.is_aligned);
  r.loss = lm + region + align;
  r.lm_loss = lm.detach();
  r.region_loss = region.detach();
  r.alignment_loss = align.detach();
  r.alignment_correct = align_logits.detach().argmax(1).eq(b.is_aligned).sum().item<double>();
  r.count = b.rows();
  return r;
}

}  // namespace vlmt

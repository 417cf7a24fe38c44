// Pretraining as a task kind: the captions corpus (annotations/pretrain, features/cc.h5 with
// the detector's class distributions) with the pretraining objective; its batch metric (the
// validation score DSG would see) is the alignment accuracy, and validation also reports the
// masked-word accuracy and the masked-region KL. It has no head of the 12 tasks and no evaluation job.
#include "core/error.h"
#include "data/task_datasets.h"
#include "tasks/kinds.h"
#include "tasks/pretraining.h"

namespace vlmt {

namespace F = torch::nn::functional;

PretrainResult pretrain_objective(MultiTaskModelImpl& m, const Batch& b) {
  auto out = m.forward(b);
  PretrainResult r;
  // Masked words: cross-entropy over masked positions only (labels -1 elsewhere, and everywhere
  // on misaligned pairs, where the data layer keeps no labels).
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
  // Alignment prediction on the fused vector. Class 0 = aligned, 1 = misaligned: the released
  // is_next label (concept_cap_dataset.py random_cap), so released weights keep their meaning.
  auto align_logits = m.cls->bi_seq_relationship(out.fused);
  auto align_class = 1 - b.is_aligned;
  auto align = F::cross_entropy(align_logits, align_class);
  r.loss = lm + region + align;
  r.lm_loss = lm.detach();
  r.region_loss = region.detach();
  r.alignment_loss = align.detach();
  r.count = b.rows();
  // The step's counts and loss terms in one device-to-host transfer (one synchronisation per step on a GPU).
  const auto word_positions = b.lm_labels.ge(0);
  const auto counts = torch::stack({align_logits.detach().argmax(1).eq(align_class).sum().to(torch::kFloat64),
                                    word_logits.detach().argmax(-1).eq(b.lm_labels).logical_and(word_positions).sum().to(torch::kFloat64),
                                    word_positions.sum().to(torch::kFloat64),
                                    (kl.detach() * masked).sum().to(torch::kFloat64),
                                    n_masked.detach().to(torch::kFloat64), r.lm_loss.to(torch::kFloat64),
                                    r.region_loss.to(torch::kFloat64), r.alignment_loss.to(torch::kFloat64)})
                          .cpu();
  const double* c = counts.data_ptr<double>();
  r.alignment_correct = c[0];
  r.words_correct = c[1];
  r.words_masked = c[2];
  r.region_kl_sum = c[3];
  r.regions_masked = c[4];
  r.lm_loss_value = c[5];
  r.region_loss_value = c[6];
  r.alignment_loss_value = c[7];
  return r;
}

namespace {

// Its further validation metrics, in the order compute() reports them.
const std::vector<std::string> kMetricNames = {"masked_word_accuracy", "masked_region_kl", "alignment_accuracy"};
// Its three loss terms: masked words, masked regions, alignment, under the names train_concap.py
// logs them with (its alignment head is BERT's next-sentence head).
const std::vector<std::string> kLossPartNames = {"masked_loss_t", "masked_loss_v", "next_sentence_loss"};

class PretrainingKind : public TaskKind {
 public:
  std::vector<std::string> metric_names() const override { return kMetricNames; }
  std::vector<std::string> loss_part_names() const override { return kLossPartNames; }
  std::string name() const override { return "pretraining"; }
  std::string head() const override { return "cls"; }
  bool is_dataset_kind() const override { return false; }

  std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec&,
                                            const DatasetSources& src) const override {
    if (ctx.features->cls_dim() != src.model.v_target_size)
      throw DataError(cat("region-feature file ", ctx.features->path(), ": pretraining needs dataset /cls_prob with ",
                          src.model.v_target_size, " classes (model.v_target_size), found ",
                          ctx.features->cls_dim()));
    PretrainMasking masking;
    masking.prob = src.train.mask_prob;
    masking.overlap_iou = src.train.region_mask_iou;
    masking.paper_overlap = src.train.region_masking == "paper";
    return std::make_unique<PretrainDataset>(std::move(ctx), masking);
  }
  bool reads_class_distributions() const override { return true; }
  void check_annotations(const std::string& path) const override { read_caption_jsonl(path); }

  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto p = pretrain_objective(m, b);
    ObjectiveResult r;
    r.loss = p.loss;
    r.score_sum = p.alignment_correct;
    r.count = p.count;
    r.metrics = {{kMetricNames[0], p.words_correct, p.words_masked},
                 {kMetricNames[1], p.region_kl_sum, p.regions_masked},
                 {kMetricNames[2], p.alignment_correct, static_cast<double>(p.count)}};
    r.loss_parts = {p.lm_loss_value, p.region_loss_value, p.alignment_loss_value};
    return r;
  }

  void fill_random_targets(Batch& b, const ModelConfig& c, int64_t regions, torch::ScalarType dtype) const override {
    const int64_t rows = b.rows(), text_len = b.input_ids.size(1);
    b.lm_labels = torch::full({rows, text_len}, -1, torch::kInt64);
    b.lm_labels.select(1, 2).copy_(b.input_ids.select(1, 2));
    b.region_targets = torch::softmax(torch::randn({rows, regions, c.v_target_size}, dtype), -1);
    b.region_masked = torch::zeros({rows, regions}, torch::kInt64);
    b.region_masked.select(1, 2).fill_(1);
    b.is_aligned = torch::randint(0, 2, {rows}, torch::kInt64);
  }

  ResultRecord evaluate(EvaluationRun&) const override {
    throw ConfigError("pretraining is a training stage, not an evaluation task: its validation metrics are in "
                      "the run's metrics.jsonl");
  }
  nlohmann::json format_inference(MultiTaskModelImpl&, const ModelOutput&, const Batch&,
                                  const InferenceContext&) const override {
    throw ConfigError("infer answers questions of the 12 tasks; pretraining has no answer to give");
  }
};

}  // namespace

const TaskKind& pretraining_kind() {
  static const PretrainingKind kind;
  return kind;
}

}  // namespace vlmt

// VL-classifier (VQA, VG QA) and VL-classifier-GQA: question + image → multi-label soft scores
// over an answer vocabulary; evaluated from the raw human answers with the official metric.
#include "core/error.h"
#include "core/log.h"
#include "data/answer_vocab.h"
#include "data/task_datasets.h"
#include "eval/human_answer_score.h"
#include "eval/mt_vgc.h"
#include "tasks/evaluation_run.h"
#include "tasks/kind_util.h"
#include "tasks/kinds.h"

namespace vlmt {
namespace {

using namespace kind_util;

// The official score of each predicted answer; the soft targets the objective scores against
// are the training proxy only.
class HumanAnswerJudge : public ItemJudge {
 public:
  HumanAnswerJudge(std::vector<std::string> answers, const std::string& annotation_path, bool exact_match)
      : answers_(std::move(answers)), humans_(annotation_path, exact_match) {}
  std::optional<double> judge(nlohmann::json& item, const Batch& b, const ObjectiveResult& r,
                              int64_t k) const override {
    const int64_t p = r.prediction[k].item<int64_t>();
    const std::string answer = p < static_cast<int64_t>(answers_.size()) ? answers_[p] : "";
    item["answer"] = answer;
    return humans_.score(b.item_ids[k], answer);
  }
  bool correct(double score) const override { return vqa_answer_right(score); }
  const HumanAnswerScorer& humans() const { return humans_; }

 private:
  std::vector<std::string> answers_;
  HumanAnswerScorer humans_;
};

class VocabClassifierKind : public TaskKind {
 public:
  VocabClassifierKind(std::string name, std::string head, bool gqa_head)
      : name_(std::move(name)), head_(std::move(head)), gqa_head_(gqa_head) {}
  std::string name() const override { return name_; }
  std::string default_metric() const override { return "vqa_accuracy"; }
  bool chance_is_answer_prior() const override { return true; }
  std::optional<double> target_base_rate(const Batch& b) const override { return b.target.mean().item<double>(); }
  std::string head() const override { return head_; }

  std::unique_ptr<TaskDataset> make_dataset(DatasetContext ctx, const TaskSpec& spec,
                                            const DatasetSources& src) const override {
    return std::make_unique<VqaDataset>(std::move(ctx), answer_vocab_path(src.data_root, spec),
                                        answer_rows(src.model));
  }
  void check_annotations(const std::string& path) const override { read_vqa_jsonl(path); }
  void check_side_files(const std::string& data_root, const TaskSpec& spec) const override {
    read_answer_vocab(data_root, spec);
  }
  const std::vector<std::string>* answer_vocabulary(const TaskDataset& dataset) const override {
    const auto* vqa = dynamic_cast<const VqaDataset*>(&dataset);  // this kind's make_dataset made it
    return vqa ? &vqa->answers() : nullptr;
  }

  ObjectiveResult compute(MultiTaskModelImpl& m, const Batch& b) const override {
    auto logits = logits_of(m, m.forward(b));
    TORCH_CHECK(logits.sizes() == b.target.sizes(), "answer targets ", b.target.sizes(), " do not match logits ",
                logits.sizes());
    return score_argmax(scaled_bce(logits, b.target), logits,
                        [&](const torch::Tensor& p) { return target_at(b.target, p); });
  }

  void fill_random_targets(Batch& b, const ModelConfig& c, int64_t, torch::ScalarType dtype) const override {
    const int64_t answers = answer_rows(c);
    b.target = torch::zeros({b.size, answers}, dtype);
    for (int64_t i = 0; i < b.size; ++i) b.target[i][i % answers] = 1.0, b.target[i][(i + 1) % answers] = 0.3;
  }

  std::unique_ptr<ItemJudge> make_judge(const EvaluationRun& run, const TaskDataset& dataset) const override {
    const std::string& annotations = dataset.context().annotation_path;
    auto judge = std::make_unique<HumanAnswerJudge>(
        model_answers(run.model, resolve_data_root(run.config.data), run.spec, run.comm.rank() == 0), annotations,
        run.spec.exact_answer_match);
    if (judge->humans().labelled_without_answers() > 0 && run.comm.rank() == 0)
      log::warn(cat(annotations, ": ", judge->humans().labelled_without_answers(),
                    " question(s) have labels but no raw \"answers\" and are not scored (re-convert "
                    "with tools/convert/annotations.py to keep the human answers)"));
    return judge;
  }

  nlohmann::json format_inference(MultiTaskModelImpl& m, const ModelOutput& out, const Batch&,
                                  const InferenceContext& ctx) const override {
    auto probs = torch::sigmoid(logits_of(m, out))[0];
    const auto answers = model_answers(m, ctx.data_root, ctx.spec, /*report=*/false);
    const int64_t n = static_cast<int64_t>(answers.size());
    auto top = probs.narrow(0, 0, std::min<int64_t>(probs.size(0), n)).topk(std::min<int64_t>(ctx.top, n));
    nlohmann::json j;
    for (int64_t k = 0; k < std::get<0>(top).size(0); ++k)
      j["answers"].push_back({{"answer", answers[std::get<1>(top)[k].item<int64_t>()]},
                              {"score", std::get<0>(top)[k].item<double>()}});
    return j;
  }

 private:
  torch::Tensor logits_of(MultiTaskModelImpl& m, const ModelOutput& out) const {
    return gqa_head_ ? m.gqa_logits(out) : m.vqa_logits(out);
  }
  int answer_rows(const ModelConfig& c) const { return gqa_head_ ? c.num_gqa_answers : c.num_vqa_answers; }

  // The answers of the head's rows: those stored with the weights, so that a head is never read
  // through another vocabulary; the data root's answers.json only for weights stored without
  // one (older checkpoints). Scores compare answer strings with the human answers, so they stay
  // right when the data root's vocabulary differs; the validation loss (labels index the data
  // root's vocabulary) does not, and `report` says so.
  std::vector<std::string> model_answers(const MultiTaskModelImpl& m, const std::string& data_root,
                                         const TaskSpec& spec, bool report) const {
    const auto stored = m.provenance.head_answers.find(head_);
    if (stored == m.provenance.head_answers.end()) {
      if (report)
        log::warn(cat(spec.key, ": ", m.provenance.source, " stores no answers for ", head_,
                      "; reading its rows through ", answer_vocab_path(data_root, spec)));
      return read_answer_vocab(data_root, spec);
    }
    const auto& answers = stored->second;
    // A vocabulary may leave rows unused (a small world under a larger head), never lack rows.
    if (static_cast<int64_t>(answers.size()) > answer_rows(m.config))
      throw DataError(cat(m.provenance.source, ": ", answers.size(), " answers stored for ", head_, ", which has only ",
                          answer_rows(m.config), " outputs"));
    if (report) {
      try {
        if (read_answer_vocab(data_root, spec) != answers)
          log::warn(cat(spec.key, ": ", answer_vocab_path(data_root, spec), " differs from the answers stored with ",
                        m.provenance.source, "; answers come from the model, so scores are right, but the "
                        "validation loss is computed against the data root's labels"));
      } catch (const DataError&) {
        // No vocabulary in the data root (e.g. own features and questions): the stored one serves.
      }
    }
    return answers;
  }

  std::string name_, head_;
  bool gqa_head_;
};

}  // namespace

const TaskKind& vqa_classifier_kind() {
  static const VocabClassifierKind kind("VL-classifier", "vil_prediction", false);
  return kind;
}

const TaskKind& gqa_classifier_kind() {
  static const VocabClassifierKind kind("VL-classifier-GQA", "vil_prediction_gqa", true);
  return kind;
}

}  // namespace vlmt

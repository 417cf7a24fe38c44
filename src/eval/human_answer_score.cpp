#include "eval/human_answer_score.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "data/annotations.h"
#include "eval/vqa_accuracy.h"

namespace vlmt {

HumanAnswerScorer::HumanAnswerScorer(const std::string& annotation_path, bool exact_match)
    : path_(annotation_path), exact_match_(exact_match) {
  for (auto& r : read_vqa_jsonl(annotation_path)) {
    if (r.answers.empty() && !r.labels.empty()) ++labelled_without_answers_;
    // Prepare the humans' side once per question instead of once per prediction.
    HumanAnswers h;
    if (exact_match_) h.answers = std::move(r.answers);
    else h = prepare_human_answers(r.answers);
    answers_[r.question_id] = std::move(h);
  }
}

std::optional<double> HumanAnswerScorer::score(const std::string& question_id,
                                               const std::string& predicted) const {
  const auto it = answers_.find(question_id);
  if (it == answers_.end()) throw DataError(cat(path_, ": no question \"", question_id, "\""));
  const auto& humans = it->second.answers;
  if (humans.empty()) return std::nullopt;
  // GQA has one answer per question; should a file list more, any of them is a match.
  if (exact_match_)
    return std::find(humans.begin(), humans.end(), predicted) != humans.end() ? 1.0 : 0.0;
  return vqa_accuracy(predicted, it->second);
}

}  // namespace vlmt

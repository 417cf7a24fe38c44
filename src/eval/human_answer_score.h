#pragma once
// Official per-question score of a predicted answer against the raw human answers kept in the
// canonical JSONL (`answers` field, docs/DATA.md): VQA v2 and VG QA use the VQA evaluation
// (official rules, eval/vqa_accuracy.h: normalised only when the humans disagree; 10 answers →
// leave-one-out average of min(1, #matches/3); one answer → match or not); GQA's official evaluation is an exact string match
// against its single answer. Training uses soft targets instead (tasks/kind_vocab_classifier.cpp).
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "eval/vqa_accuracy.h"

namespace vlmt {

class HumanAnswerScorer {
 public:
  // Reads `annotation_path` (read_vqa_jsonl). `exact_match` = GQA's rule (a task's official
  // rule is TaskSpec::exact_answer_match).
  HumanAnswerScorer(const std::string& annotation_path, bool exact_match);

  // Score in [0, 1]; nullopt when the question has no human answers (test splits). Throws
  // DataError naming the file when `question_id` is not in it.
  std::optional<double> score(const std::string& question_id, const std::string& predicted) const;
  // Questions of the file that carry labels but no raw answers (converted without them).
  int64_t labelled_without_answers() const { return labelled_without_answers_; }

 private:
  std::string path_;
  bool exact_match_;
  // Prepared for the VQA metric, as written for exact match.
  std::unordered_map<std::string, HumanAnswers> answers_;
  int64_t labelled_without_answers_ = 0;
};

}  // namespace vlmt

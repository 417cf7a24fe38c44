#pragma once
// VQA answer normalisation and accuracy as defined by the official VQA evaluation script
// (vqaEval.py): punctuation handling, number words to digits, article removal, contractions,
// lower case; accuracy averaged over the leave-one-out subsets of the 10 human answers.
// VG QA and GQA have a single answer per question, for which the score is an exact match after
// the same normalisation.
#include <string>
#include <vector>

namespace vlmt {

// The official normalisation, in the official order:
//  1. '\n' and '\t' become spaces, leading/trailing whitespace is stripped;
//  2. punctuation ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? ! is deleted when it touches a space
//     in the input or when the input contains a comma between two digits ("1,000" -> "1000"),
//     otherwise it becomes a space ("left-right" -> "left right");
//  3. a period is deleted unless a digit follows it ("2.5" stays, "yes." -> "yes");
//  4. lower case, split on whitespace, number words none/zero..ten -> digits, articles a/an/the
//     dropped, contractions restored ("dont" -> "don't"), words joined by single spaces.
std::string normalize_vqa_answer(const std::string& answer);

// The human answers of one question as the official script compares them (vqaEval.py, lines
// 87-107 of GT-Vision-Lab/VQA): '\n'/'\t' to spaces and stripped; then, only when they are not
// all identical, normalised as above, the prediction too. A unanimous question is an exact,
// case-sensitive match of the stripped strings: "the table" does not match "table", and "Yes"
// does not match ten "yes" (the script lower-cases only inside the normalisation).
struct HumanAnswers {
  std::vector<std::string> answers;
  bool normalized = false;  // the prediction is normalised too
};
HumanAnswers prepare_human_answers(const std::vector<std::string>& raw_answers);

// Accuracy in [0, 1] of one raw predicted answer. 10 or more answers: the official
// leave-one-out average of min(1, #matches among the other answers / 3); 2..9 answers:
// min(1, #matches / 3); 1 answer: match or not. Throws DataError when there are no answers.
double vqa_accuracy(const std::string& predicted, const HumanAnswers& humans);
double vqa_accuracy(const std::string& predicted, const std::vector<std::string>& raw_human_answers);

}  // namespace vlmt

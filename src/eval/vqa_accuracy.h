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

// Accuracy in [0, 1] of one predicted answer against the human answers of one question.
// Both sides are normalised here. 10 or more answers: the official leave-one-out average of
// min(1, #matches among the other answers / 3); 2..9 answers: min(1, #matches / 3);
// 1 answer: exact match. Throws DataError when `human_answers` is empty.
double vqa_accuracy(const std::string& predicted, const std::vector<std::string>& human_answers);

// Same, for answers that are already normalised (hot loop over a whole split).
double vqa_accuracy_normalized(const std::string& predicted,
                               const std::vector<std::string>& human_answers);

}  // namespace vlmt

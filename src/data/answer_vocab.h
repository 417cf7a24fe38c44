#pragma once
// Answer vocabularies (annotations/<task>/answers.json, {"answers": [...]}: row i of the answer
// head = answers[i]). The one place that finds and reads them: datasets, the evaluate job and
// `infer` all come here, so they can never pair a head row with different answers.
#include <string>
#include <vector>

#include "catalog/task_spec.h"
#include "data/annotations.h"

namespace vlmt {

// <root>/annotations/<task>/answers.json, else the vocabulary of the task it shares answers
// with (TaskSpec::shared_answers: VG QA uses VQA's). DataError naming both places if neither
// exists.
std::string answer_vocab_path(const std::string& data_root, const TaskSpec& spec);
// The answers, in head-row order (DataError naming the file if malformed; the reader of one
// file is data/annotations.h's read_answer_vocab(path)).
std::vector<std::string> read_answer_vocab(const std::string& data_root, const TaskSpec& spec);

}  // namespace vlmt

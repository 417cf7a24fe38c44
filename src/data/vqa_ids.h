#pragma once
// VQA question ids. The VQA evaluation server's submission file holds each question_id as a JSON
// integer (eval/results.h: write_vqa_submission), so an annotation id that is not one cannot be
// submitted: it is rejected when the split is opened, before the evaluation runs.
#include <cstdint>
#include <string>

namespace vlmt {

// TaskSpec::submission of the tasks whose item ids are VQA question ids.
inline constexpr const char* kVqaSubmissionFormat = "vqa";

// `id` as a question id: decimal digits only, at most 2^63 − 1. Otherwise DataError (exit 3)
// naming the id and `where` (the annotation file).
int64_t vqa_question_id(const std::string& id, const std::string& where);

}  // namespace vlmt

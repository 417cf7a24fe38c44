#pragma once
// The built-in kinds, one per file tasks/kind_*.cpp; registered in tasks/task_kinds.cpp.
#include "tasks/task_kind.h"

namespace vlmt {

const TaskKind& vqa_classifier_kind();     // VL-classifier
const TaskKind& gqa_classifier_kind();     // VL-classifier-GQA
const TaskKind& retrieval_kind();          // VL-logit
const TaskKind& region_grounding_kind();   // V-logit
const TaskKind& region_choice_kind();      // V-logit-mc
const TaskKind& pair_verification_kind();  // VL-binary-classifier
const TaskKind& tri_verification_kind();   // VL-tri-classifier
const TaskKind& pretraining_kind();        // pretraining

}  // namespace vlmt

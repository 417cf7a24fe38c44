#pragma once
// The built-in datasets' values, the one place they are written (catalog/builtin_tasks.cpp).
#include <vector>

#include "catalog/task_spec.h"

namespace vlmt {

std::vector<TaskSpec> builtin_datasets();  // the 12 of 12-in-1, in the paper's Table 2 order
TaskSpec pretraining_spec();               // the captions corpus

}  // namespace vlmt

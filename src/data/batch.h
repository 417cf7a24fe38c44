#pragma once
// The contract between the data layer and the model/task code: one collated batch of one task.
//
// Rows: the model sees `rows = size * rows_per_item` image–text pairs. rows_per_item is 4 for
// retrieval training (positive + 3 negatives, as in the released retreival_dataset.py), 2 for
// NLVR2 (the two images of one statement are consecutive rows) and 1 otherwise.
//
// Targets by task kind (tasks/task_kind.h):
//   VL-classifier(-GQA)   target [size, A] float  soft answer scores (VQA: min(1, #humans/3))
//   VL-logit              target [size] int64     index of the positive among the 4 options
//   V-logit               target [size, R] float  IoU of each region with the ground truth, 0 below 0.5
//   V-logit-mc            target [size, C] float  one-hot over the C candidates; choice_ids [size, C]
//                         int64 = region index (within R) of each candidate box
//   VL-binary-classifier  target [size, 2] float  one-hot (false, true)
//   VL-tri-classifier     target [size, 3] float  one-hot (contradiction, neutral, entailment)
// Pretraining batches (task "pretrain") use lm_labels, region_targets, region_masked and is_aligned.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "catalog/task_spec.h"

namespace vlmt {

struct Batch {
  std::string task;        // task key ("vqa", ..., "pretrain": catalog/task_catalog.h)
  int task_id = 0;         // official task id = task-token row; 0 for pretraining
  // The task's group (G1..G4; the "token per head" mode's row). A dataset batch left at
  // kPretraining is refused by that mode rather than given a wrong token.
  TaskGroup task_group = TaskGroup::kPretraining;
  int64_t size = 0;        // items in the batch
  int rows_per_item = 1;

  // Model inputs, [rows, ...].
  torch::Tensor input_ids;    // [rows, L] int64, [CLS] w1 .. wn [SEP] pad...
  torch::Tensor segment_ids;  // [rows, L] int64
  torch::Tensor text_mask;    // [rows, L] int64, 1 = token, 0 = padding
  torch::Tensor features;     // [rows, R, D] float32, row 0 = mean-feature IMG region
  torch::Tensor spatials;     // [rows, R, 5] float32: x1/W, y1/H, x2/W, y2/H, area fraction
  torch::Tensor image_mask;   // [rows, R] int64, 1 = region, 0 = padding

  // Targets, [size, ...] (see the table above).
  torch::Tensor target;
  torch::Tensor choice_ids;

  // Pretraining targets.
  torch::Tensor lm_labels;       // [rows, L] int64, -1 where no word is masked
  torch::Tensor region_targets;  // [rows, R, C] float32 detector class distribution
  torch::Tensor region_masked;   // [rows, R] int64, 1 = region was masked
  torch::Tensor is_aligned;      // [rows] int64, 1 = caption belongs to the image

  // Identity of each item, for submission files and analysis.
  std::vector<std::string> item_ids;   // question / expression / pair id
  std::vector<std::string> image_ids;  // [rows] image id of each row

  int64_t rows() const { return size * rows_per_item; }
  // Moves every defined tensor to `device` (non_blocking where the source is pinned).
  Batch to(const torch::Device& device, bool non_blocking = false) const;
  // Every defined tensor copied to page-locked host memory, so that a later
  // to(cuda, /*non_blocking=*/true) is an asynchronous copy. Needs a CUDA-enabled LibTorch.
  Batch pin_memory() const;
  // Bytes of the defined tensors (what a batch waiting in a prefetch queue holds).
  int64_t bytes() const;
};

}  // namespace vlmt

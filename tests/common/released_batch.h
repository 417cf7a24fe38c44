#pragma once
// The released code's batch tuples (as its DataLoaders give them, under the names the golden
// scripts store them: tools/dev/golden/make_golden_steps.py and make_golden_batches.py) laid out as
// vlmt's Batch holds the same items (data/batch.h). One place for the correspondence, used by
// the golden training steps and the golden batches.
#include <torch/torch.h>

#include <map>
#include <string>

#include "catalog/task_spec.h"
#include "data/batch.h"

namespace vlmt::released {

using Tensors = std::map<std::string, torch::Tensor>;

// Visual7W's and GuessWhat's candidates index the regions after this many slots (task_utils.py
// vision_logit[:, 101:]; the detections of the released features are 100 boxes + IMG).
inline constexpr int64_t kChoiceOffset = 101;
// guesswhat_pointing_dataset.py pads every item's candidate list to 204 entries of value 204.
inline constexpr int64_t kGuessWhatChoiceSlots = 204;

// Task batch: `f[prefix + name]` for name in features, spatials, image_mask, question,
// input_mask, segment_ids, target (and multiple_choice_ids for V-logit-mc). Floats as `dtype`.
inline Batch to_batch(const Tensors& f, const std::string& prefix, const TaskSpec& spec,
                      torch::ScalarType dtype = torch::kDouble) {
  auto in = [&](const std::string& n) { return f.at(prefix + n); };
  Batch b;
  b.task = spec.key;
  b.task_id = spec.id;
  b.task_group = spec.group;
  auto features = in("features").to(dtype), spatials = in("spatials").to(dtype);
  auto image_mask = in("image_mask"), question = in("question"), text_mask = in("input_mask"),
       segments = in("segment_ids"), target = in("target");
  b.size = features.size(0);
  if (spec.kind_name == "VL-logit") {  // [B, 4, ...] → 4 consecutive rows per item
    b.rows_per_item = static_cast<int>(features.size(1));
    features = features.flatten(0, 1);
    spatials = spatials.flatten(0, 1);
    image_mask = image_mask.flatten(0, 1);
    question = question.flatten(0, 1);
    text_mask = text_mask.flatten(0, 1);
    segments = segments.flatten(0, 1);
  } else if (spec.kind_name == "VL-binary-classifier") {  // [B, 2R] → the two images as rows
    b.rows_per_item = 2;
    const int64_t B = b.size, R = features.size(1) / 2;
    features = features.view({2 * B, R, -1});
    spatials = spatials.view({2 * B, R, -1});
    image_mask = image_mask.view({2 * B, R});
    question = question.repeat_interleave(2, 0);
    text_mask = text_mask.repeat_interleave(2, 0);
    segments = segments.repeat_interleave(2, 0);
  }
  b.input_ids = question;
  b.text_mask = text_mask;
  b.segment_ids = segments;
  b.features = features;
  b.spatials = spatials;
  b.image_mask = image_mask;
  if (spec.kind_name == "VL-logit") b.target = target.to(torch::kInt64);
  else if (target.dim() == 3) b.target = target.squeeze(2).to(dtype);
  else b.target = target.to(dtype);
  if (spec.kind_name == "V-logit-mc") {  // candidate ids count from the slot after the offset
    auto ids = in("multiple_choice_ids");
    if (spec.key == "guesswhat") {  // vlmt pads with -1 up to the batch's longest candidate list
      const auto real = ids.ne(kGuessWhatChoiceSlots);
      const int64_t longest = std::max<int64_t>(1, real.sum(1).max().item<int64_t>());
      b.choice_ids = torch::where(real, ids + kChoiceOffset, torch::full_like(ids, -1)).narrow(1, 0, longest);
      b.target = b.target.narrow(1, 0, longest);
    } else {
      b.choice_ids = ids + kChoiceOffset;
    }
  }
  return b;
}

// Pretraining batch: input_ids, input_mask, segment_ids, lm_label_ids, is_next, image_feat,
// image_loc, image_target, image_label, image_mask under `prefix`.
inline Batch to_pretrain_batch(const Tensors& f, const std::string& prefix = "input/",
                               torch::ScalarType dtype = torch::kDouble) {
  auto in = [&](const std::string& n) { return f.at(prefix + n); };
  Batch b;
  b.task = TaskCatalog::builtin().pretraining().key;
  b.task_id = TaskCatalog::builtin().pretraining().id;
  b.input_ids = in("input_ids");
  b.size = b.input_ids.size(0);
  b.text_mask = in("input_mask");
  b.segment_ids = in("segment_ids");
  b.features = in("image_feat").to(dtype);
  b.spatials = in("image_loc").to(dtype);
  b.image_mask = in("image_mask");
  b.lm_labels = in("lm_label_ids");
  // Released region labels and targets skip the IMG slot; vlmt's cover every slot.
  auto targets = in("image_target").to(dtype);
  b.region_targets = torch::cat({torch::zeros({b.size, 1, targets.size(2)}, dtype), targets}, 1);
  auto trained = in("image_label").eq(1).to(torch::kInt64);
  b.region_masked = torch::cat({torch::zeros({b.size, 1}, torch::kInt64), trained}, 1);
  b.is_aligned = 1 - in("is_next");  // released is_next: 0 = the image's own caption
  return b;
}

}  // namespace vlmt::released

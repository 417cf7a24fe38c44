#include "data/batch.h"

namespace vlmt {

Batch Batch::to(const torch::Device& device, bool non_blocking) const {
  Batch out = *this;
  for (torch::Tensor* t : {&out.input_ids, &out.segment_ids, &out.text_mask, &out.features,
                           &out.spatials, &out.image_mask, &out.target, &out.choice_ids,
                           &out.lm_labels, &out.region_targets, &out.region_masked, &out.is_aligned}) {
    if (t->defined()) *t = t->to(device, non_blocking);
  }
  return out;
}

}  // namespace vlmt

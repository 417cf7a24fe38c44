#include "data/batch.h"

namespace vlmt {

namespace {

// A copy of `batch` with `fn` applied to every defined tensor.
template <typename Fn>
Batch map_tensors(const Batch& batch, Fn fn) {
  Batch out = batch;
  for (torch::Tensor* t : {&out.input_ids, &out.segment_ids, &out.text_mask, &out.features,
                           &out.spatials, &out.image_mask, &out.target, &out.choice_ids,
                           &out.lm_labels, &out.region_targets, &out.region_masked, &out.is_aligned}) {
    if (t->defined()) *t = fn(*t);
  }
  return out;
}

}  // namespace

Batch Batch::to(const torch::Device& device, bool non_blocking) const {
  return map_tensors(*this, [&](const torch::Tensor& t) { return t.to(device, non_blocking); });
}

Batch Batch::pin_memory() const {
  return map_tensors(*this, [](const torch::Tensor& t) { return t.pin_memory(); });
}

}  // namespace vlmt

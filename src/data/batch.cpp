#include "data/batch.h"

#include <array>

namespace vlmt {

namespace {

// Every tensor field of a batch.
template <typename B>
auto tensor_fields(B& b) {
  return std::array{&b.input_ids, &b.segment_ids, &b.text_mask, &b.features, &b.spatials, &b.image_mask,
                    &b.target, &b.choice_ids, &b.lm_labels, &b.region_targets, &b.region_masked, &b.is_aligned};
}

// A copy of `batch` with `fn` applied to every defined tensor.
template <typename Fn>
Batch map_tensors(const Batch& batch, Fn fn) {
  Batch out = batch;
  for (torch::Tensor* t : tensor_fields(out))
    if (t->defined()) *t = fn(*t);
  return out;
}

}  // namespace

Batch Batch::to(const torch::Device& device, bool non_blocking) const {
  return map_tensors(*this, [&](const torch::Tensor& t) { return t.to(device, non_blocking); });
}

int64_t Batch::bytes() const {
  int64_t n = 0;
  for (const torch::Tensor* t : tensor_fields(*this))
    if (t->defined()) n += static_cast<int64_t>(t->nbytes());
  return n;
}

Batch Batch::pin_memory() const {
  return map_tensors(*this, [](const torch::Tensor& t) { return t.pin_memory(); });
}

}  // namespace vlmt

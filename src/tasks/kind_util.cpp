#include "tasks/kind_util.h"

namespace vlmt::kind_util {

std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous().view({-1});
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

nlohmann::json best_region_answer(MultiTaskModelImpl& m, const ModelOutput& out, const Batch& batch,
                                  const InferenceContext& ctx) {
  auto logits = m.region_logits(out, batch.image_mask)[0];
  logits[0] = -1e9;  // the IMG region stands for the whole image, not a box
  const int64_t best = logits.argmax().item<int64_t>();
  return {{"box", to_vector(ctx.boxes.at(0)[best])},
          {"region", best},
          {"score", torch::sigmoid(logits[best]).item<double>()}};
}

}  // namespace vlmt::kind_util

#include "eval/grounding_accuracy.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

double box_area(const Box& b) { return (b.x2 - b.x1) * (b.y2 - b.y1); }

double box_iou(const Box& a, const Box& b) {
  for (const Box* box : {&a, &b})
    if (box->x2 < box->x1 || box->y2 < box->y1)
      throw DataError(cat("box_iou: inverted box [", box->x1, ", ", box->y1, ", ", box->x2, ", ",
                          box->y2, "]"));
  const double w = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const double h = std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double inter = w * h;
  const double uni = box_area(a) + box_area(b) - inter;
  return uni <= 0.0 ? 0.0 : inter / uni;
}

bool referring_hit(const Box& predicted, const Box& ground_truth) {
  return box_iou(predicted, ground_truth) > kReferringIouThreshold;
}

int64_t referring_correct(const std::vector<Box>& predicted,
                          const std::vector<Box>& ground_truth) {
  if (predicted.size() != ground_truth.size())
    throw DataError(cat("referring accuracy: ", predicted.size(), " predictions for ",
                        ground_truth.size(), " ground-truth boxes"));
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += referring_hit(predicted[i], ground_truth[i]);
  return correct;
}

double referring_accuracy(const std::vector<Box>& predicted,
                          const std::vector<Box>& ground_truth) {
  const int64_t correct = referring_correct(predicted, ground_truth);
  return predicted.empty() ? 0.0 : 100.0 * double(correct) / double(predicted.size());
}

ArgmaxCount argmax_correct(const torch::Tensor& scores, const torch::Tensor& labels) {
  if (scores.dim() != 2 || labels.dim() != 1 || scores.size(0) != labels.size(0))
    throw DataError(cat("argmax accuracy: scores must be [N, C] and labels [N], got ",
                        scores.sizes(), " and ", labels.sizes()));
  const torch::Tensor l = labels.to(torch::kCPU, torch::kLong);
  const torch::Tensor valid = l.ge(0);
  if (l.numel() > 0 && l.max().item<int64_t>() >= scores.size(1))
    throw DataError(cat("argmax accuracy: label ", l.max().item<int64_t>(), " >= ",
                        scores.size(1), " classes"));
  const torch::Tensor pred = scores.detach().argmax(1).to(torch::kCPU, torch::kLong);
  ArgmaxCount count;
  count.n = valid.sum().item<int64_t>();
  count.correct = (pred.eq(l) & valid).sum().item<int64_t>();
  return count;
}

double choice_accuracy(const torch::Tensor& scores, const torch::Tensor& answers) {
  return argmax_correct(scores, answers).percent();
}

double classification_accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return argmax_correct(logits, labels).percent();
}

}  // namespace vlmt

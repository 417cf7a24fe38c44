#pragma once
// Accuracy metrics of the pointing and verification tasks: referring expressions (RefCOCO/+/g:
// the predicted region is right when its IoU with the ground-truth box is > 0.5), multiple
// choice (Visual7W, GuessWhat: argmax over candidates == answer) and classification (NLVR2,
// SNLI-VE: argmax over classes == label). Scores are in percent; *_correct counts are provided
// so that ranks can sum counts before dividing.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace vlmt {

// Box corners in pixels, x1 <= x2, y1 <= y2 (continuous coordinates: width = x2 - x1).
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

double box_area(const Box& b);
// Intersection over union; 0 when both boxes are empty. Throws DataError on inverted corners.
double box_iou(const Box& a, const Box& b);
inline constexpr double kReferringIouThreshold = 0.5;
bool referring_hit(const Box& predicted, const Box& ground_truth);

int64_t referring_correct(const std::vector<Box>& predicted, const std::vector<Box>& ground_truth);
double referring_accuracy(const std::vector<Box>& predicted, const std::vector<Box>& ground_truth);

// scores [N, C] (any float type, any device), labels [N] integer. Rows whose label is negative
// (padding) are not counted in n. Throws DataError on shape mismatch or label >= C.
struct ArgmaxCount {
  int64_t correct = 0;
  int64_t n = 0;
  double percent() const { return n == 0 ? 0.0 : 100.0 * double(correct) / double(n); }
};
ArgmaxCount argmax_correct(const torch::Tensor& scores, const torch::Tensor& labels);
// Visual7W / GuessWhat: scores over the candidate boxes, labels = index of the right candidate.
double choice_accuracy(const torch::Tensor& scores, const torch::Tensor& answers);
// NLVR2 (2 classes) / SNLI-VE (3 classes).
double classification_accuracy(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace vlmt

#pragma once
// The detected regions of one image as a feature file stores them (data/feature_file.h).
#include <torch/torch.h>

namespace vlmt {

struct ImageRegions {
  int h = 0, w = 0;             // image size in pixels
  torch::Tensor features;       // [N, D] in the file's precision (float16 or float32)
  torch::Tensor boxes;          // [N, 4] float32, x1 y1 x2 y2 in pixels
  torch::Tensor cls_prob;       // [N, C] float32; undefined unless asked for and stored
  int64_t num_regions() const { return features.defined() ? features.size(0) : 0; }
  // Bytes of the tensors (what holding this image costs).
  int64_t bytes() const {
    int64_t n = 0;
    for (const auto* t : {&features, &boxes, &cls_prob})
      if (t->defined()) n += static_cast<int64_t>(t->nbytes());
    return n;
  }
};

}  // namespace vlmt

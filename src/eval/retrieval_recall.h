#pragma once
// Recall@K for caption-based image retrieval (the paper's number: each caption ranks all images
// of the test split, R@1 = share of captions whose ground-truth image is ranked first) and for
// image-based caption retrieval (each image ranks all captions; a hit when any of its
// ground-truth captions is in the top K). Scores are a [captions, images] float matrix.
#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace vlmt {

class Communicator;

struct RecallAtK {
  double r1 = 0.0;   // percent
  double r5 = 0.0;
  double r10 = 0.0;
  int64_t n = 0;     // number of queries
};

// Ranks are 1-based positions in a stable descending sort (ties go to the lower index), so the
// result never depends on the sort implementation.
// Throws DataError when shapes disagree or a ground-truth index is out of range.
RecallAtK image_retrieval_recall(const torch::Tensor& scores,
                                 const std::vector<int64_t>& gt_image_of_caption);
// Images without any caption are skipped (not counted in n).
RecallAtK caption_retrieval_recall(const torch::Tensor& scores,
                                   const std::vector<int64_t>& gt_image_of_caption);

// Rows [begin, end) of `total_rows` that `rank` of `size` scores (contiguous, balanced blocks).
std::pair<int64_t, int64_t> score_rows_of_rank(int64_t total_rows, int rank, int size);

// Distributed assembly: every rank passes the rows it scored (block = rows [row_begin, ...)),
// each fills them into a zero [total_rows, block.size(1)] float CPU matrix and an all_reduce sum
// gives every rank the whole matrix. Collective: every rank must call it.
torch::Tensor assemble_score_matrix(Communicator& comm, const torch::Tensor& block,
                                    int64_t row_begin, int64_t total_rows);

}  // namespace vlmt

#include "eval/retrieval_recall.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "distributed/communicator.h"

namespace vlmt {
namespace {

torch::Tensor checked_scores(const torch::Tensor& scores, size_t captions) {
  if (scores.dim() != 2)
    throw DataError(cat("retrieval: score matrix must be 2-D [captions, images], got ",
                        scores.dim(), "-D"));
  if (scores.size(0) != static_cast<int64_t>(captions))
    throw DataError(cat("retrieval: score matrix has ", scores.size(0), " caption rows but ",
                        captions, " ground-truth image indices were given"));
  return scores.to(torch::kCPU, torch::kDouble).contiguous();
}

// 1-based rank of column `target` in `row` (stable descending order).
int64_t rank_in_row(const double* row, int64_t columns, int64_t target) {
  const double t = row[target];
  int64_t ahead = 0;
  for (int64_t j = 0; j < columns; ++j)
    if (row[j] > t || (row[j] == t && j < target)) ++ahead;
  return ahead + 1;
}

struct RecallCounter {
  int64_t hits1 = 0, hits5 = 0, hits10 = 0, n = 0;
  void add(int64_t rank) {
    hits1 += rank <= 1;
    hits5 += rank <= 5;
    hits10 += rank <= 10;
    ++n;
  }
  RecallAtK result() const {
    RecallAtK r;
    r.n = n;
    if (n == 0) return r;
    r.r1 = 100.0 * static_cast<double>(hits1) / static_cast<double>(n);
    r.r5 = 100.0 * static_cast<double>(hits5) / static_cast<double>(n);
    r.r10 = 100.0 * static_cast<double>(hits10) / static_cast<double>(n);
    return r;
  }
};

void check_gt(const std::vector<int64_t>& gt, int64_t images) {
  for (size_t c = 0; c < gt.size(); ++c)
    if (gt[c] < 0 || gt[c] >= images)
      throw DataError(cat("retrieval: caption ", c, " has ground-truth image ", gt[c],
                          " outside [0, ", images, ")"));
}

}  // namespace

RecallAtK image_retrieval_recall(const torch::Tensor& scores,
                                 const std::vector<int64_t>& gt_image_of_caption) {
  const torch::Tensor s = checked_scores(scores, gt_image_of_caption.size());
  const int64_t images = s.size(1);
  check_gt(gt_image_of_caption, images);
  const double* data = s.data_ptr<double>();
  RecallCounter counter;
  for (size_t c = 0; c < gt_image_of_caption.size(); ++c)
    counter.add(rank_in_row(data + static_cast<int64_t>(c) * images, images,
                            gt_image_of_caption[c]));
  return counter.result();
}

RecallAtK caption_retrieval_recall(const torch::Tensor& scores,
                                   const std::vector<int64_t>& gt_image_of_caption) {
  // Ranking captions for an image is ranking a row of the transposed matrix.
  const torch::Tensor s = checked_scores(scores, gt_image_of_caption.size()).t().contiguous();
  const int64_t images = s.size(0), captions = s.size(1);
  check_gt(gt_image_of_caption, images);
  const double* data = s.data_ptr<double>();
  RecallCounter counter;
  for (int64_t i = 0; i < images; ++i) {
    int64_t best = 0;  // best rank among this image's captions; 0 = image has none
    for (int64_t c = 0; c < captions; ++c) {
      if (gt_image_of_caption[static_cast<size_t>(c)] != i) continue;
      const int64_t r = rank_in_row(data + i * captions, captions, c);
      best = best == 0 ? r : std::min(best, r);
    }
    if (best > 0) counter.add(best);
  }
  return counter.result();
}

std::pair<int64_t, int64_t> score_rows_of_rank(int64_t total_rows, int rank, int size) {
  if (size <= 0 || rank < 0 || rank >= size)
    throw ConfigError(cat("score_rows_of_rank: rank ", rank, " of ", size, " is invalid"));
  const int64_t base = total_rows / size, extra = total_rows % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

torch::Tensor assemble_score_matrix(Communicator& comm, const torch::Tensor& block,
                                    int64_t row_begin, int64_t total_rows) {
  if (block.dim() != 2)
    throw DataError(cat("assemble_score_matrix: block must be 2-D, got ", block.dim(), "-D"));
  if (row_begin < 0 || row_begin + block.size(0) > total_rows)
    throw DataError(cat("assemble_score_matrix: rows [", row_begin, ", ",
                        row_begin + block.size(0), ") do not fit in ", total_rows, " rows"));
  torch::Tensor full = torch::zeros({total_rows, block.size(1)}, torch::kFloat);
  if (block.size(0) > 0)
    full.narrow(0, row_begin, block.size(0)).copy_(block.to(torch::kCPU, torch::kFloat));
  comm.all_reduce(full, ReduceOp::kSum);
  return full;
}

}  // namespace vlmt

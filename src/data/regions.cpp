// Region geometry and the per-image model input (docs/DATA.md "A sample gets ...").
#include "core/error.h"
#include "core/log.h"
#include "data/feature_store.h"

namespace vlmt {

torch::Tensor region_locations(const torch::Tensor& boxes, int h, int w) {
  const float W = static_cast<float>(w), H = static_cast<float>(h);
  auto b = boxes.to(torch::kFloat);
  auto x1 = b.select(1, 0) / W, y1 = b.select(1, 1) / H, x2 = b.select(1, 2) / W, y2 = b.select(1, 3) / H;
  auto area = (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1)) / (W * H);
  return torch::stack({x1, y1, x2, y2, area}, 1);
}

RegionInput make_region_input(const ImageRegions& image, int max_regions, const ImageRegions* appended) {
  const int64_t n_app = appended ? appended->num_regions() : 0;
  if (n_app + 1 > max_regions)
    throw DataError(cat(n_app, " candidate regions plus the IMG region exceed max_regions = ", max_regions));
  if (image.w <= 0 || image.h <= 0)
    throw DataError(cat("image size ", image.w, "x", image.h, " is not positive"));
  const int64_t D = image.features.size(1);
  const int64_t n_det = std::min<int64_t>(image.num_regions(), max_regions - 1 - n_app);
  RegionInput in;
  in.features = torch::zeros({max_regions, D});
  in.boxes = torch::zeros({max_regions, 4});
  in.mask = torch::zeros({max_regions}, torch::kInt64);
  in.source_rows.assign(max_regions, -1);
  // The file's precision (float16 or float32) becomes float32 here, where the batch is built.
  const torch::Tensor features = image.features.to(torch::kFloat);
  // IMG region: the mean over all of the image's regions (not only the kept ones), whole image.
  if (image.num_regions() > 0) in.features[0] = features.mean(0);
  in.boxes[0] = torch::tensor({0.f, 0.f, static_cast<float>(image.w), static_cast<float>(image.h)});
  if (n_det > 0) {
    in.features.narrow(0, 1, n_det).copy_(features.narrow(0, 0, n_det));
    in.boxes.narrow(0, 1, n_det).copy_(image.boxes.narrow(0, 0, n_det));
    for (int64_t k = 0; k < n_det; ++k) in.source_rows[k + 1] = k;
  }
  in.count = 1 + n_det;
  in.mask.narrow(0, 0, in.count).fill_(1);
  in.spatials = region_locations(in.boxes, image.h, image.w);
  in.spatials.narrow(0, in.count, max_regions - in.count).zero_();
  in.spatials[0] = torch::tensor({0.f, 0.f, 1.f, 1.f, 1.f});
  if (n_app > 0) append_regions_to_capacity(in, *appended);  // room was kept for all
  return in;
}

int64_t append_regions_to_capacity(RegionInput& in, const ImageRegions& extra) {
  const int64_t slots = in.features.size(0);
  const int64_t n = std::min<int64_t>(extra.num_regions(), slots - in.count);
  if (n <= 0) return 0;
  if (extra.features.size(1) != in.features.size(1))
    throw DataError(cat("appended (ground-truth / candidate) features have dimension ", extra.features.size(1),
                        " but the detected regions have ", in.features.size(1)));
  if (extra.w <= 0 || extra.h <= 0)
    throw DataError(cat("appended regions' image size ", extra.w, "x", extra.h, " is not positive"));
  in.features.narrow(0, in.count, n).copy_(extra.features.narrow(0, 0, n));
  in.boxes.narrow(0, in.count, n).copy_(extra.boxes.narrow(0, 0, n));
  in.spatials.narrow(0, in.count, n).copy_(region_locations(in.boxes.narrow(0, in.count, n), extra.h, extra.w));
  in.mask.narrow(0, in.count, n).fill_(1);
  in.appended_at = in.count;
  in.count += n;
  return n;
}

torch::Tensor box_iou_matrix(const torch::Tensor& a, const torch::Tensor& b) {
  auto A = a.to(torch::kFloat).unsqueeze(1), B = b.to(torch::kFloat).unsqueeze(0);
  auto ix1 = torch::max(A.select(2, 0), B.select(2, 0)), iy1 = torch::max(A.select(2, 1), B.select(2, 1));
  auto ix2 = torch::min(A.select(2, 2), B.select(2, 2)), iy2 = torch::min(A.select(2, 3), B.select(2, 3));
  auto inter = (ix2 - ix1 + 1).clamp_min(0) * (iy2 - iy1 + 1).clamp_min(0);
  auto area = [](const torch::Tensor& t) {
    return (t.select(2, 2) - t.select(2, 0) + 1) * (t.select(2, 3) - t.select(2, 1) + 1);
  };
  auto uni = area(A) + area(B) - inter;
  return torch::where(uni > 0, inter / uni.clamp_min(1e-12), torch::zeros_like(inter));
}

torch::Tensor box_iou(const torch::Tensor& boxes, const torch::Tensor& box) {
  return box_iou_matrix(boxes, box.reshape({1, 4})).squeeze(1);
}

}  // namespace vlmt

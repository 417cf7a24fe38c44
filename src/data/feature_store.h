#pragma once
// Reader of one region-feature file (docs/DATA.md "Region-feature files"): random access by
// image id, a bounded LRU cache of decoded images, safe to call from several threads.
#include <torch/torch.h>

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace vlmt {

// The detected regions of one image, decoded.
struct ImageRegions {
  int h = 0, w = 0;             // image size in pixels
  torch::Tensor features;       // [N, D] float32
  torch::Tensor boxes;          // [N, 4] float32, x1 y1 x2 y2 in pixels
  torch::Tensor cls_prob;       // [N, C] float32, undefined when the file has none
  int64_t num_regions() const { return features.defined() ? features.size(0) : 0; }
};

class FeatureStore {
 public:
  // Opens and validates the file; builds the id → index map. `cache_images` = LRU capacity
  // (0 disables caching). Throws DataError naming the file and the offending dataset.
  explicit FeatureStore(const std::string& path, int cache_images = 2048);
  ~FeatureStore();
  FeatureStore(const FeatureStore&) = delete;
  FeatureStore& operator=(const FeatureStore&) = delete;

  // Decoded regions of one image (shared with the cache: do not modify the tensors in place).
  // Unknown id → DataError naming the file and the id.
  ImageRegions get(const std::string& image_id) const;
  bool contains(const std::string& image_id) const { return index_.count(image_id) != 0; }
  // Regions stored for an image (without reading them); DataError for an unknown id.
  int64_t num_regions(const std::string& image_id) const;

  const std::string& path() const { return path_; }
  const std::string& fingerprint() const { return fingerprint_; }
  int64_t feature_dim() const { return feature_dim_; }
  int64_t cls_dim() const { return cls_dim_; }  // 0 when /cls_prob is absent
  bool has_cls_prob() const { return cls_dim_ > 0; }
  const std::vector<std::string>& ids() const { return ids_; }
  int64_t num_images() const { return static_cast<int64_t>(ids_.size()); }
  // Cache statistics (for tests and logging).
  int64_t cache_size() const;
  int64_t disk_reads() const;

 private:
  struct Hdf5Handles;  // keeps the HDF5 C++ types out of this header
  ImageRegions read_image(int64_t index) const;

  std::string path_;
  std::string fingerprint_;
  int64_t feature_dim_ = 0, cls_dim_ = 0;
  std::vector<std::string> ids_;
  std::unordered_map<std::string, int64_t> index_;
  std::vector<int64_t> offsets_;
  std::vector<int32_t> heights_, widths_;
  std::unique_ptr<Hdf5Handles> h5_;

  // LRU: most recent at the front.
  int cache_capacity_;
  mutable std::mutex cache_mutex_;
  mutable std::list<std::pair<int64_t, ImageRegions>> lru_;
  mutable std::unordered_map<int64_t, std::list<std::pair<int64_t, ImageRegions>>::iterator> cached_;
  mutable int64_t disk_reads_ = 0;
};

// Shares one open store per path within the process (several tasks read the same source).
std::shared_ptr<FeatureStore> open_feature_store(const std::string& path, int cache_images);

// The model input of one image (docs/DATA.md): region 0 = mean feature with location
// [0,0,1,1,1], then the first regions, padded to max_regions.
struct RegionInput {
  torch::Tensor features;  // [R, D] float32
  torch::Tensor spatials;  // [R, 5] float32
  torch::Tensor mask;      // [R] int64, 1 = real region
  torch::Tensor boxes;     // [R, 4] float32 pixel boxes (IMG = whole image, padding = 0)
  int64_t count = 0;       // real regions incl. IMG and appended ones
  int64_t appended_at = -1;// index of the first appended region (-1 when none)
  std::vector<int64_t> source_rows;  // detected-region row of each slot (-1 = IMG/appended/pad)
};

// Appends `extra` after the real regions of `in`, as many as fit in its slots (the released
// referring-expression training: detections first, then ground-truth boxes, up to
// max_region_num); their locations are relative to `extra`'s own image size, as the released
// readers compute them from the ground-truth file. Returns how many were appended.
int64_t append_regions_to_capacity(RegionInput& in, const ImageRegions& extra);

// 5-d locations (x1/W, y1/H, x2/W, y2/H, area/(W·H)) of pixel boxes [N,4].
torch::Tensor region_locations(const torch::Tensor& boxes, int h, int w);

// Builds the RegionInput. When `appended` is given its regions follow the detected ones
// (detected regions incl. IMG are capped at max_regions − appended count); throws DataError if
// the appended regions alone do not fit.
RegionInput make_region_input(const ImageRegions& image, int max_regions,
                              const ImageRegions* appended = nullptr);

// IoU as the released datasets compute it (the iou() of refer_expression_dataset.py,
// visual7w_pointing_dataset.py, guesswhat_pointing_dataset.py and concept_cap_dataset.py): box
// corners are inclusive pixel indices, so a box spans x2 − x1 + 1 pixels and an intersection
// min(x2) − max(x1) + 1 (0 when negative). For boxes of a few pixels it differs much from the
// continuous IoU: [10,10,12,11] and [11,10,13,11] overlap 1/2 here, 1/3 with continuous corners.
// Referring targets and their 0.5 cut, pointing targets, pretraining's overlap masking and so
// the grounding metrics all use it. Every box of `boxes` [N,4] with `box` [4] → [N].
torch::Tensor box_iou(const torch::Tensor& boxes, const torch::Tensor& box);
// Pairwise IoU [N,M], same convention.
torch::Tensor box_iou_matrix(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace vlmt

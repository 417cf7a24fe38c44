#pragma once
// Reader of one region-feature file (docs/DATA.md "Region-feature files"): random access by
// image id, safe to call from any number of threads. Rows are read by their file offset with
// pread(2) (data/feature_rows.h) — no lock, and the page cache is shared by every rank of a node —
// unless the file's layout needs HDF5's own reader, which the serial library allows one call at
// a time in the whole process. Decoded images may be kept in a FeatureCache.
#include <torch/torch.h>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/feature_cache.h"
#include "data/image_regions.h"

namespace vlmt {

class FeatureStore {
 public:
  // Opens and validates the file; builds the id → index map. `cache` may be null (no caching).
  // Throws DataError naming the file and the offending dataset.
  explicit FeatureStore(const std::string& path, std::shared_ptr<FeatureCache> cache = nullptr);
  ~FeatureStore();
  FeatureStore(const FeatureStore&) = delete;
  FeatureStore& operator=(const FeatureStore&) = delete;

  // Regions of one image (shared with the cache: do not modify the tensors in place), with the
  // detector's class scores only when asked for (pretraining) and stored. Unknown id →
  // DataError naming the file and the id.
  ImageRegions get(const std::string& image_id, bool with_cls_prob = false) const;
  bool contains(const std::string& image_id) const { return index_.count(image_id) != 0; }
  // Regions stored for an image (without reading them); DataError for an unknown id.
  int64_t num_regions(const std::string& image_id) const;

  const std::string& path() const { return path_; }
  const std::string& fingerprint() const { return fingerprint_; }
  int64_t feature_dim() const { return feature_dim_; }
  int64_t cls_dim() const { return cls_dim_; }  // 0 when /cls_prob is absent
  bool has_cls_prob() const { return cls_dim_ > 0; }
  bool features_half() const { return half_; }  // /features stored as float16
  // True when every dataset is read with pread; else `read_path()` says which is not and why.
  bool direct_reads() const;
  std::string read_path() const;
  const std::vector<std::string>& ids() const { return ids_; }
  int64_t num_images() const { return static_cast<int64_t>(ids_.size()); }
  // Statistics (for tests, logging and bench_loader): images read from the file, their bytes.
  int64_t disk_reads() const { return disk_reads_; }
  int64_t bytes_read() const { return bytes_read_; }
  uint64_t serial() const { return serial_; }  // unique per store in the process (cache key)

 private:
  struct Reader;  // the open file: HDF5 handles and the datasets' row locations (keeps HDF5 out of this header)
  ImageRegions read_image(int64_t index, bool with_cls_prob) const;

  std::string path_;
  std::string fingerprint_;
  int64_t feature_dim_ = 0, cls_dim_ = 0;
  bool half_ = false;
  std::vector<std::string> ids_;
  std::unordered_map<std::string, int64_t> index_;
  std::vector<int64_t> offsets_;
  std::vector<int32_t> heights_, widths_;
  std::unique_ptr<Reader> reader_;
  std::shared_ptr<FeatureCache> cache_;
  uint64_t serial_;
  mutable std::atomic<int64_t> disk_reads_{0}, bytes_read_{0};
};

// Shares one open store per path within the process (several tasks read the same source); its
// images go to the process's cache of `cache_mb` MiB (process_feature_cache).
std::shared_ptr<FeatureStore> open_feature_store(const std::string& path, int64_t cache_mb);

// The model input of one image (docs/DATA.md): region 0 = mean feature with location
// [0,0,1,1,1], then the first regions, padded to max_regions; float32 whatever the file stores.
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
// A region's training target for a referring or pointing answer box is its IoU with the box, 0
// below this cut (refer_expression_dataset.py, visual7w_pointing_dataset.py).
constexpr float kTargetMinIoU = 0.5f;

}  // namespace vlmt

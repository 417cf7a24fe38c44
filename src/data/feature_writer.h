#pragma once
// Writer of the region-feature HDF5 files described in docs/DATA.md. Images are appended one at a
// time (features, boxes and class distributions go straight to chunked, extendible datasets, so
// memory stays flat); the small per-image arrays (ids, offsets, sizes) are written on close().
// The file is built under `<path>.tmp` and renamed on close, so a crashed writer never leaves a
// half-written file under the real name.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace vlmt {

struct FeatureFileOptions {
  int feature_dim = 0;
  std::string detector;        // e.g. "synthetic" or "resnext152-vg"
  std::string settings_hash;   // hash of the extraction settings
  bool float16 = false;        // store /features as IEEE half precision
  int num_classes = 0;         // > 0: write /cls_prob with this many columns
  std::uint64_t chunk_rows = 512;
};

// "detector/feature_dim/settings_hash": the fingerprint checkpoints record.
std::string feature_fingerprint(const FeatureFileOptions& options);

class FeatureFileWriter {
 public:
  // Throws DataError naming the file when it cannot be created or the options are invalid.
  FeatureFileWriter(std::string path, FeatureFileOptions options);
  ~FeatureFileWriter();  // without close(): removes the temporary file
  FeatureFileWriter(const FeatureFileWriter&) = delete;
  FeatureFileWriter& operator=(const FeatureFileWriter&) = delete;

  // Row-major arrays: features [n, feature_dim], boxes [n, 4], cls_prob [n, num_classes] (or
  // empty when num_classes == 0). Throws DataError on a size mismatch or a duplicate id.
  void add_image(const std::string& id, int image_h, int image_w,
                 const std::vector<float>& features, const std::vector<float>& boxes,
                 const std::vector<float>& cls_prob = {});
  // Writes the index arrays and attributes, closes and renames to the final path.
  void close();

  std::int64_t num_images() const { return static_cast<std::int64_t>(ids_.size()); }
  std::int64_t num_regions() const { return offsets_.back(); }
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::string path_, tmp_path_;
  FeatureFileOptions options_;
  std::vector<std::string> ids_;
  std::vector<std::int64_t> offsets_{0};
  std::vector<std::int32_t> image_h_, image_w_;
  std::unordered_set<std::string> seen_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vlmt

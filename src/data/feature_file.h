#pragma once
// The layout of a region-feature file (features/<source>.h5, docs/DATA.md "Region-feature
// files"): the one place that names its datasets and attributes and gives their shapes and file
// types. The writer (data/feature_writer.cpp) and the reader (data/feature_store.cpp) both use
// it; the Python converters (tools/convert/) write the same layout through h5py.
#include <H5Cpp.h>

namespace vlmt::feature_file {

// Datasets. I = images, total = regions of all images, D = feature dim, C = detector classes.
inline constexpr char kIds[] = "/ids";            // [I] variable-length string
inline constexpr char kOffsets[] = "/offsets";    // [I+1] int64: image i = rows [o[i], o[i+1])
inline constexpr char kImageH[] = "/image_h";     // [I] int32, pixels
inline constexpr char kImageW[] = "/image_w";     // [I] int32, pixels
inline constexpr char kFeatures[] = "/features";  // [total, D] float16 or float32
inline constexpr char kBoxes[] = "/boxes";        // [total, kBoxValues] float32
inline constexpr char kClsProb[] = "/cls_prob";   // [total, C] float32, optional
inline constexpr int kBoxValues = 4;              // x1, y1, x2, y2 in pixels

// Root attributes.
inline constexpr char kFeatureDimAttr[] = "feature_dim";      // int, = D
inline constexpr char kDetectorAttr[] = "detector";           // string
inline constexpr char kSettingsHashAttr[] = "settings_hash";  // string
inline constexpr char kFingerprintAttr[] = "fingerprint";     // detector/feature_dim/settings_hash
inline constexpr char kFormatVersionAttr[] = "format_version";  // int
inline constexpr int kFormatVersion = 1;

// File types (little-endian, as h5py writes them). Functions, not constants: the HDF5 C++
// predefined types exist only once the library has initialised itself.
inline const H5::PredType& offsets_type() { return H5::PredType::STD_I64LE; }
inline const H5::PredType& image_size_type() { return H5::PredType::STD_I32LE; }
inline const H5::PredType& float32_type() { return H5::PredType::IEEE_F32LE; }  // features, boxes, cls_prob

}  // namespace vlmt::feature_file

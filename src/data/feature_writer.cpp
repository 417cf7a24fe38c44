#include "data/feature_writer.h"

#include <H5Cpp.h>

#include <cstdio>

#include "core/error.h"
#include "core/hdf5_util.h"
#include "core/log.h"
#include "data/feature_file.h"

namespace vlmt {
namespace ff = feature_file;
namespace {

// Creation properties without object timestamps, so identical input gives identical bytes.
H5::DSetCreatPropList chunked(hsize_t rows, hsize_t cols) {
  H5::DSetCreatPropList plist;
  hsize_t chunk[2] = {rows, cols};
  plist.setChunk(cols == 0 ? 1 : 2, chunk);
  H5Pset_obj_track_times(plist.getId(), false);
  return plist;
}

}  // namespace

struct FeatureFileWriter::Impl {
  explicit Impl(const std::string& path) : file(path, H5F_ACC_TRUNC) {}
  H5::H5File file;
  H5::DataSet features, boxes, cls_prob;
};

std::string feature_fingerprint(const FeatureFileOptions& o) {
  return cat(o.detector, "/", o.feature_dim, "/", o.settings_hash);
}

FeatureFileWriter::FeatureFileWriter(std::string path, FeatureFileOptions options)
    : path_(std::move(path)), tmp_path_(path_ + ".tmp"), options_(std::move(options)) {
  if (options_.feature_dim <= 0)
    throw DataError(cat(path_, ": feature_dim must be positive, got ", options_.feature_dim));
  if (options_.num_classes < 0)
    throw DataError(cat(path_, ": num_classes must be >= 0, got ", options_.num_classes));
  if (options_.chunk_rows == 0) options_.chunk_rows = 512;
  try {
    H5::Exception::dontPrint();
    impl_ = std::make_unique<Impl>(tmp_path_);
    auto make = [&](const char* name, const H5::DataType& type, hsize_t cols) {
      hsize_t dims[2] = {0, cols}, maxdims[2] = {H5S_UNLIMITED, cols};
      H5::DataSpace space(2, dims, maxdims);
      return impl_->file.createDataSet(name, type, space, chunked(options_.chunk_rows, cols));
    };
    const hsize_t d = static_cast<hsize_t>(options_.feature_dim);
    impl_->features =
        make(ff::kFeatures, options_.float16 ? H5::DataType(h5::make_half_type().get())
                                             : H5::DataType(ff::float32_type()), d);
    impl_->boxes = make(ff::kBoxes, ff::float32_type(), ff::kBoxValues);
    if (options_.num_classes > 0)
      impl_->cls_prob = make(ff::kClsProb, ff::float32_type(),
                             static_cast<hsize_t>(options_.num_classes));
  } catch (const H5::Exception& e) {
    impl_.reset();
    throw DataError(cat(path_, ": cannot create feature file: ", e.getDetailMsg()));
  }
}

FeatureFileWriter::~FeatureFileWriter() {
  if (!impl_) return;
  impl_.reset();  // closes the datasets and the file
  std::remove(tmp_path_.c_str());
}

namespace {
void append_rows(H5::DataSet& dset, hsize_t first_row, hsize_t rows, hsize_t cols,
                 const float* data) {
  hsize_t new_dims[2] = {first_row + rows, cols};
  dset.extend(new_dims);
  H5::DataSpace file_space = dset.getSpace();
  hsize_t start[2] = {first_row, 0}, count[2] = {rows, cols};
  file_space.selectHyperslab(H5S_SELECT_SET, count, start);
  H5::DataSpace mem_space(2, count);
  dset.write(data, H5::PredType::NATIVE_FLOAT, mem_space, file_space);
}
}  // namespace

void FeatureFileWriter::add_image(const std::string& id, int image_h, int image_w,
                                  const std::vector<float>& features,
                                  const std::vector<float>& boxes,
                                  const std::vector<float>& cls_prob) {
  if (!impl_) throw DataError(cat(path_, ": add_image after close"));
  const std::size_t d = static_cast<std::size_t>(options_.feature_dim);
  const std::size_t n = boxes.size() / ff::kBoxValues;
  if (boxes.size() % ff::kBoxValues != 0 || features.size() != n * d)
    throw DataError(cat(path_, ": image ", id, ": ", boxes.size(), " box values and ",
                        features.size(), " feature values do not describe n regions of dim ", d));
  const std::size_t c = static_cast<std::size_t>(options_.num_classes);
  if (cls_prob.size() != n * c)
    throw DataError(cat(path_, ": image ", id, ": cls_prob has ", cls_prob.size(),
                        " values, expected ", n * c));
  if (image_h <= 0 || image_w <= 0)
    throw DataError(cat(path_, ": image ", id, ": bad size ", image_w, "x", image_h));
  if (!seen_.insert(id).second) throw DataError(cat(path_, ": duplicate image id ", id));
  const hsize_t first = static_cast<hsize_t>(offsets_.back());
  try {
    if (n > 0) {
      append_rows(impl_->features, first, n, d, features.data());
      append_rows(impl_->boxes, first, n, ff::kBoxValues, boxes.data());
      if (c > 0) append_rows(impl_->cls_prob, first, n, c, cls_prob.data());
    }
  } catch (const H5::Exception& e) {
    throw DataError(cat(path_, ": writing image ", id, ": ", e.getDetailMsg()));
  }
  ids_.push_back(id);
  offsets_.push_back(offsets_.back() + static_cast<std::int64_t>(n));
  image_h_.push_back(image_h);
  image_w_.push_back(image_w);
}

namespace {
template <class T>
void write_1d(H5::H5File& file, const char* name, const H5::PredType& file_type,
              const H5::PredType& mem_type, const std::vector<T>& values) {
  hsize_t dims[1] = {values.size()};
  H5::DataSpace space(1, dims);
  H5::DSetCreatPropList plist;
  H5Pset_obj_track_times(plist.getId(), false);
  auto dset = file.createDataSet(name, file_type, space, plist);
  if (!values.empty()) dset.write(values.data(), mem_type);
}

void write_attr(H5::H5File& file, const char* name, int value) {
  auto attr = file.createAttribute(name, H5::PredType::NATIVE_INT, H5::DataSpace(H5S_SCALAR));
  attr.write(H5::PredType::NATIVE_INT, &value);
}

void write_attr(H5::H5File& file, const char* name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  auto attr = file.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  attr.write(type, value);
}
}  // namespace

void FeatureFileWriter::close() {
  if (!impl_) throw DataError(cat(path_, ": closed twice"));
  try {
    H5::H5File& f = impl_->file;
    write_1d(f, ff::kOffsets, ff::offsets_type(), H5::PredType::NATIVE_INT64, offsets_);
    write_1d(f, ff::kImageH, ff::image_size_type(), H5::PredType::NATIVE_INT32, image_h_);
    write_1d(f, ff::kImageW, ff::image_size_type(), H5::PredType::NATIVE_INT32, image_w_);
    // Variable-length strings: the C API takes an array of char pointers.
    std::vector<const char*> id_ptrs;
    for (const auto& id : ids_) id_ptrs.push_back(id.c_str());
    H5::StrType str_type(H5::PredType::C_S1, H5T_VARIABLE);
    hsize_t dims[1] = {ids_.size()};
    H5::DSetCreatPropList plist;
    H5Pset_obj_track_times(plist.getId(), false);
    auto ids = f.createDataSet(ff::kIds, str_type, H5::DataSpace(1, dims), plist);
    if (!ids_.empty()) ids.write(id_ptrs.data(), str_type);
    write_attr(f, ff::kFeatureDimAttr, options_.feature_dim);
    write_attr(f, ff::kDetectorAttr, options_.detector);
    write_attr(f, ff::kSettingsHashAttr, options_.settings_hash);
    write_attr(f, ff::kFingerprintAttr, feature_fingerprint(options_));
    write_attr(f, ff::kFormatVersionAttr, ff::kFormatVersion);
    impl_->features.close();
    impl_->boxes.close();
    if (options_.num_classes > 0) impl_->cls_prob.close();
    f.close();
  } catch (const H5::Exception& e) {
    throw DataError(cat(path_, ": finishing feature file: ", e.getDetailMsg()));
  }
  impl_.reset();
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0)
    throw DataError(cat(path_, ": cannot rename ", tmp_path_, " to the final name"));
}

}  // namespace vlmt

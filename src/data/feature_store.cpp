#include "data/feature_store.h"

#include <H5Cpp.h>

#include "core/error.h"
#include "core/log.h"
#include "data/feature_file.h"

namespace vlmt {
namespace ff = feature_file;

namespace {
// The serial HDF5 library is not thread-safe: every call into it, for every file, goes
// through this one mutex.
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

std::vector<hsize_t> dims_of(const H5::DataSet& ds) {
  H5::DataSpace space = ds.getSpace();
  std::vector<hsize_t> dims(space.getSimpleExtentNdims());
  space.getSimpleExtentDims(dims.data());
  return dims;
}

std::string read_string_attr(const H5::H5File& file, const char* name) {
  if (!file.attrExists(name)) return "";
  H5::Attribute attr = file.openAttribute(name);
  H5::StrType type = attr.getStrType();
  std::string value;
  attr.read(type, value);
  return value;
}

int64_t read_int_attr(const H5::H5File& file, const char* name) {
  if (!file.attrExists(name)) return -1;
  H5::Attribute attr = file.openAttribute(name);
  int64_t value = 0;
  attr.read(H5::PredType::NATIVE_INT64, &value);
  return value;
}

std::vector<std::string> read_strings(const H5::DataSet& ds, size_t n) {
  H5::DataType file_type = ds.getDataType();
  if (file_type.getClass() != H5T_STRING) throw std::runtime_error("is not a string dataset");
  H5::StrType str_type = ds.getStrType();
  std::vector<std::string> out(n);
  if (str_type.isVariableStr()) {
    std::vector<char*> raw(n, nullptr);
    H5::StrType mem(H5::PredType::C_S1, H5T_VARIABLE);
    mem.setCset(str_type.getCset());
    ds.read(raw.data(), mem);
    for (size_t i = 0; i < n; ++i) out[i] = raw[i] ? raw[i] : "";
    H5::DataSet::vlenReclaim(raw.data(), mem, ds.getSpace());
  } else {
    size_t width = str_type.getSize();
    std::vector<char> raw(n * width);
    ds.read(raw.data(), str_type);
    for (size_t i = 0; i < n; ++i) {
      const char* s = raw.data() + i * width;
      out[i] = std::string(s, strnlen(s, width));
    }
  }
  return out;
}
}  // namespace

struct FeatureStore::Hdf5Handles {
  H5::H5File file;
  H5::DataSet features, boxes, cls_prob;
  bool half = false;  // /features stored as IEEE float16
};

FeatureStore::FeatureStore(const std::string& path, int cache_images)
    : path_(path), cache_capacity_(std::max(0, cache_images)) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  H5::Exception::dontPrint();
  h5_ = std::make_unique<Hdf5Handles>();
  try {
    h5_->file.openFile(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception&) {
    throw DataError(cat("region-feature file not found or not HDF5: ", path));
  }
  const char* current = "";
  auto bad = [&](const std::string& why) {
    return DataError(cat("region-feature file ", path, ": dataset ", current, " ", why));
  };
  auto open = [&](const char* name) {
    current = name;
    if (!h5_->file.nameExists(name)) throw bad("is missing");
    return h5_->file.openDataSet(name);
  };
  try {
    H5::DataSet ids_ds = open(ff::kIds);
    auto ids_dims = dims_of(ids_ds);
    if (ids_dims.size() != 1) throw bad("must be 1-d [I]");
    const size_t n = ids_dims[0];
    ids_ = read_strings(ids_ds, n);

    H5::DataSet off_ds = open(ff::kOffsets);
    if (dims_of(off_ds) != std::vector<hsize_t>{n + 1}) throw bad(cat("must have shape [", n + 1, "]"));
    offsets_.resize(n + 1);
    off_ds.read(offsets_.data(), H5::PredType::NATIVE_INT64);

    for (auto [name, dest] : {std::pair<const char*, std::vector<int32_t>*>{ff::kImageH, &heights_},
                              {ff::kImageW, &widths_}}) {
      H5::DataSet ds = open(name);
      if (dims_of(ds) != std::vector<hsize_t>{n}) throw bad(cat("must have shape [", n, "]"));
      dest->resize(n);
      ds.read(dest->data(), H5::PredType::NATIVE_INT32);
    }

    h5_->features = open(ff::kFeatures);
    auto fdims = dims_of(h5_->features);
    if (fdims.size() != 2) throw bad("must be 2-d [total, D]");
    if (h5_->features.getTypeClass() != H5T_FLOAT) throw bad("must be float16 or float32");
    size_t fsize = h5_->features.getFloatType().getSize();
    if (fsize != 2 && fsize != 4) throw bad("must be float16 or float32");
    h5_->half = fsize == 2;
    const int64_t total = static_cast<int64_t>(fdims[0]);
    feature_dim_ = static_cast<int64_t>(fdims[1]);

    h5_->boxes = open(ff::kBoxes);
    if (dims_of(h5_->boxes) != std::vector<hsize_t>{fdims[0], ff::kBoxValues})
      throw bad(cat("must have shape [", total, ", ", ff::kBoxValues, "]"));

    if (h5_->file.nameExists(ff::kClsProb)) {
      h5_->cls_prob = open(ff::kClsProb);
      auto cdims = dims_of(h5_->cls_prob);
      if (cdims.size() != 2 || cdims[0] != fdims[0]) throw bad(cat("must have shape [", total, ", C]"));
      cls_dim_ = static_cast<int64_t>(cdims[1]);
    }

    current = ff::kOffsets;
    if (offsets_.front() != 0 || offsets_.back() != total) throw bad(cat("must run from 0 to ", total));
    for (size_t i = 0; i < n; ++i)
      if (offsets_[i + 1] < offsets_[i]) throw bad(cat("decreases at image ", i));

    int64_t dim_attr = read_int_attr(h5_->file, ff::kFeatureDimAttr);
    if (dim_attr >= 0 && dim_attr != feature_dim_)
      throw DataError(cat("region-feature file ", path, ": attribute feature_dim = ", dim_attr,
                          " but /features has ", feature_dim_, " columns"));
    fingerprint_ = read_string_attr(h5_->file, ff::kFingerprintAttr);
  } catch (const H5::Exception& e) {
    throw bad(cat("is unreadable (", e.getDetailMsg(), ")"));
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const DataError*>(&e)) throw;
    throw bad(e.what());
  }
  index_.reserve(ids_.size() * 2);
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (!index_.emplace(ids_[i], static_cast<int64_t>(i)).second)
      throw DataError(cat("region-feature file ", path, ": dataset /ids repeats image id ", ids_[i]));
  }
}

FeatureStore::~FeatureStore() {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  h5_.reset();  // closing touches the library too
}

ImageRegions FeatureStore::read_image(int64_t i) const {
  const int64_t begin = offsets_[i], n = offsets_[i + 1] - offsets_[i];
  ImageRegions r;
  r.h = heights_[i];
  r.w = widths_[i];
  auto read_rows = [&](const H5::DataSet& ds, int64_t cols, torch::Tensor& dest,
                       torch::ScalarType type, const H5::DataType& mem_type) {
    dest = torch::empty({n, cols}, torch::TensorOptions().dtype(type));
    if (n == 0) return;
    hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
    hsize_t count[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(cols)};
    H5::DataSpace file_space = ds.getSpace();
    file_space.selectHyperslab(H5S_SELECT_SET, count, start);
    H5::DataSpace mem_space(2, count);
    ds.read(dest.data_ptr(), mem_type, mem_space, file_space);
  };
  {
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    try {
      if (h5_->half) {
        // Read the raw IEEE halves without HDF5's slow soft conversion, widen in torch below.
        read_rows(h5_->features, feature_dim_, r.features, torch::kHalf, h5_->features.getFloatType());
      } else {
        read_rows(h5_->features, feature_dim_, r.features, torch::kFloat, H5::PredType::NATIVE_FLOAT);
      }
      read_rows(h5_->boxes, ff::kBoxValues, r.boxes, torch::kFloat, H5::PredType::NATIVE_FLOAT);
      if (cls_dim_ > 0) read_rows(h5_->cls_prob, cls_dim_, r.cls_prob, torch::kFloat, H5::PredType::NATIVE_FLOAT);
    } catch (const H5::Exception& e) {
      throw DataError(cat("region-feature file ", path_, ": cannot read image ", ids_[i], " (",
                          e.getDetailMsg(), ")"));
    }
  }
  if (h5_->half) r.features = r.features.to(torch::kFloat);
  return r;
}

int64_t FeatureStore::num_regions(const std::string& image_id) const {
  const auto it = index_.find(image_id);
  if (it == index_.end()) throw DataError(cat(path_, ": no image '", image_id, "'"));
  return offsets_[it->second + 1] - offsets_[it->second];
}

ImageRegions FeatureStore::get(const std::string& image_id) const {
  auto it = index_.find(image_id);
  if (it == index_.end())
    throw DataError(cat("region-feature file ", path_, " has no image with id '", image_id, "'"));
  const int64_t index = it->second;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto hit = cached_.find(index);
    if (hit != cached_.end()) {
      lru_.splice(lru_.begin(), lru_, hit->second);
      return hit->second->second;
    }
  }
  ImageRegions regions = read_image(index);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  ++disk_reads_;
  if (cache_capacity_ == 0 || cached_.count(index)) return regions;
  lru_.emplace_front(index, regions);
  cached_[index] = lru_.begin();
  while (static_cast<int>(lru_.size()) > cache_capacity_) {
    cached_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return regions;
}

int64_t FeatureStore::cache_size() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return static_cast<int64_t>(lru_.size());
}

int64_t FeatureStore::disk_reads() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return disk_reads_;
}

std::shared_ptr<FeatureStore> open_feature_store(const std::string& path, int cache_images) {
  static std::mutex m;
  static std::unordered_map<std::string, std::weak_ptr<FeatureStore>> open_stores;
  std::lock_guard<std::mutex> lock(m);
  if (auto existing = open_stores[path].lock()) return existing;
  auto store = std::make_shared<FeatureStore>(path, cache_images);
  log::info(cat("opened region features ", path, ": ", store->num_images(), " images, dim ",
                store->feature_dim(), ", fingerprint '", store->fingerprint(), "'"));
  open_stores[path] = store;
  return store;
}

}  // namespace vlmt

#include "data/feature_store.h"

#include <H5Cpp.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "data/feature_file.h"
#include "data/feature_rows.h"

namespace vlmt {
namespace ff = feature_file;

namespace {
// The serial HDF5 library is not thread-safe: every call into it, for every file, goes
// through this one mutex (opening and closing files, and the reads that cannot use pread).
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

struct FeatureStore::Reader {
  H5::H5File file;
  H5::DataSet features, boxes, cls_prob;
  H5::DataType features_type;  // /features as read: the file's IEEE halves, or native float32
  DatasetRows features_rows, boxes_rows, cls_rows;
  int fd = -1;
  ~Reader() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {
std::atomic<uint64_t> next_store_serial{1};

// Row locations of `ds` for pread, when its file type is exactly the bytes the reader wants, and
// a read of its first and last rows through pread gives what HDF5 gives.
DatasetRows direct_rows(const H5::DataSet& ds, int64_t rows, int64_t cols, const H5::DataType& wanted,
                        uint64_t userblock, int fd) {
  if (fd < 0) return DatasetRows("the file cannot be opened for pread");
  const H5::DataType file_type = ds.getDataType();
  if (!(file_type == wanted) || H5Tget_order(file_type.getId()) != H5T_ORDER_LE)
    return DatasetRows("its element type differs from the one read");
  DatasetRows out(ds.getId(), rows, cols, static_cast<int64_t>(wanted.getSize()), userblock);
  if (!out.direct() || rows == 0) return out;
  for (int64_t row : {int64_t{0}, rows - 1}) {
    std::vector<char> mine(out.row_bytes()), theirs(out.row_bytes());
    hsize_t start[2] = {static_cast<hsize_t>(row), 0}, count[2] = {1, static_cast<hsize_t>(cols)};
    H5::DataSpace file_space = ds.getSpace();
    file_space.selectHyperslab(H5S_SELECT_SET, count, start);
    H5::DataSpace mem_space(2, count);
    ds.read(theirs.data(), wanted, mem_space, file_space);
    try {
      out.read(fd, row, 1, mine.data());
    } catch (const std::runtime_error& e) {
      return DatasetRows(cat("a check read failed (", e.what(), ")"));
    }
    if (mine != theirs) return DatasetRows(cat("a check read of row ", row, " disagrees with HDF5"));
  }
  return out;
}
}  // namespace

FeatureStore::FeatureStore(const std::string& path, std::shared_ptr<FeatureCache> cache)
    : path_(path), cache_(std::move(cache)), serial_(next_store_serial++) {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  H5::Exception::dontPrint();
  reader_ = std::make_unique<Reader>();
  try {
    reader_->file.openFile(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception&) {
    throw DataError(cat("region-feature file not found or not HDF5: ", path));
  }
  const char* current = "";
  auto bad = [&](const std::string& why) {
    return DataError(cat("region-feature file ", path, ": dataset ", current, " ", why));
  };
  auto open = [&](const char* name) {
    current = name;
    if (!reader_->file.nameExists(name)) throw bad("is missing");
    return reader_->file.openDataSet(name);
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

    reader_->features = open(ff::kFeatures);
    auto fdims = dims_of(reader_->features);
    if (fdims.size() != 2) throw bad("must be 2-d [total, D]");
    if (reader_->features.getTypeClass() != H5T_FLOAT) throw bad("must be float16 or float32");
    size_t fsize = reader_->features.getFloatType().getSize();
    if (fsize != 2 && fsize != 4) throw bad("must be float16 or float32");
    half_ = fsize == 2;
    reader_->features_type =
        half_ ? H5::DataType(reader_->features.getFloatType()) : H5::DataType(H5::PredType::NATIVE_FLOAT);
    const int64_t total = static_cast<int64_t>(fdims[0]);
    feature_dim_ = static_cast<int64_t>(fdims[1]);

    reader_->boxes = open(ff::kBoxes);
    if (dims_of(reader_->boxes) != std::vector<hsize_t>{fdims[0], ff::kBoxValues})
      throw bad(cat("must have shape [", total, ", ", ff::kBoxValues, "]"));

    if (reader_->file.nameExists(ff::kClsProb)) {
      reader_->cls_prob = open(ff::kClsProb);
      auto cdims = dims_of(reader_->cls_prob);
      if (cdims.size() != 2 || cdims[0] != fdims[0]) throw bad(cat("must have shape [", total, ", C]"));
      cls_dim_ = static_cast<int64_t>(cdims[1]);
    }

    current = ff::kOffsets;
    if (offsets_.front() != 0 || offsets_.back() != total) throw bad(cat("must run from 0 to ", total));
    for (size_t i = 0; i < n; ++i)
      if (offsets_[i + 1] < offsets_[i]) throw bad(cat("decreases at image ", i));

    int64_t dim_attr = read_int_attr(reader_->file, ff::kFeatureDimAttr);
    if (dim_attr >= 0 && dim_attr != feature_dim_)
      throw DataError(cat("region-feature file ", path, ": attribute feature_dim = ", dim_attr,
                          " but /features has ", feature_dim_, " columns"));
    fingerprint_ = read_string_attr(reader_->file, ff::kFingerprintAttr);

    current = ff::kFeatures;
    const hsize_t userblock = reader_->file.getCreatePlist().getUserblock();
    reader_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    reader_->features_rows = direct_rows(reader_->features, total, feature_dim_, reader_->features_type, userblock,
                                         reader_->fd);
    current = ff::kBoxes;
    reader_->boxes_rows =
        direct_rows(reader_->boxes, total, ff::kBoxValues, H5::PredType::NATIVE_FLOAT, userblock, reader_->fd);
    current = ff::kClsProb;
    if (cls_dim_ > 0)
      reader_->cls_rows =
          direct_rows(reader_->cls_prob, total, cls_dim_, H5::PredType::NATIVE_FLOAT, userblock, reader_->fd);
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
  if (cache_) cache_->forget(serial_);
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  reader_.reset();  // closing touches the library too
}

bool FeatureStore::direct_reads() const {
  return reader_->features_rows.direct() && reader_->boxes_rows.direct() &&
         (cls_dim_ == 0 || reader_->cls_rows.direct());
}

std::string FeatureStore::read_path() const {
  if (direct_reads()) return "pread by file offset";
  std::string out = "HDF5, one read at a time in the process:";
  const std::pair<const char*, const DatasetRows*> sets[] = {
      {ff::kFeatures, &reader_->features_rows}, {ff::kBoxes, &reader_->boxes_rows}, {ff::kClsProb, &reader_->cls_rows}};
  for (const auto& [name, rows] : sets)
    if (!rows->direct() && (rows != &reader_->cls_rows || cls_dim_ > 0)) out += cat(" ", name, " ", rows->why_not(), ";");
  return out;
}

ImageRegions FeatureStore::read_image(int64_t i, bool with_cls_prob) const {
  const int64_t begin = offsets_[i], n = offsets_[i + 1] - offsets_[i];
  ImageRegions r;
  r.h = heights_[i];
  r.w = widths_[i];
  int64_t bytes = 0;
  auto read_rows = [&](const H5::DataSet& ds, const DatasetRows& rows, int64_t cols, torch::ScalarType type,
                       const H5::DataType& mem_type) {
    torch::Tensor dest = torch::empty({n, cols}, torch::TensorOptions().dtype(type));
    bytes += static_cast<int64_t>(dest.nbytes());
    if (n == 0) return dest;
    if (rows.direct()) {
      rows.read(reader_->fd, begin, n, dest.data_ptr());
      return dest;
    }
    hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
    hsize_t count[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(cols)};
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    H5::DataSpace file_space = ds.getSpace();
    file_space.selectHyperslab(H5S_SELECT_SET, count, start);
    H5::DataSpace mem_space(2, count);
    ds.read(dest.data_ptr(), mem_type, mem_space, file_space);
    return dest;
  };
  try {
    // float16 features are read as their raw IEEE halves (no HDF5 conversion) and stay so until a
    // batch is built (make_region_input).
    r.features = read_rows(reader_->features, reader_->features_rows, feature_dim_, half_ ? torch::kHalf : torch::kFloat,
                           reader_->features_type);
    r.boxes = read_rows(reader_->boxes, reader_->boxes_rows, ff::kBoxValues, torch::kFloat, H5::PredType::NATIVE_FLOAT);
    if (with_cls_prob && cls_dim_ > 0)
      r.cls_prob = read_rows(reader_->cls_prob, reader_->cls_rows, cls_dim_, torch::kFloat, H5::PredType::NATIVE_FLOAT);
  } catch (const H5::Exception& e) {
    throw DataError(cat("region-feature file ", path_, ": cannot read image ", ids_[i], " (", e.getDetailMsg(), ")"));
  } catch (const std::runtime_error& e) {
    throw DataError(cat("region-feature file ", path_, ": cannot read image ", ids_[i], " (", e.what(), ")"));
  }
  ++disk_reads_;
  bytes_read_ += bytes;
  return r;
}

int64_t FeatureStore::num_regions(const std::string& image_id) const {
  const auto it = index_.find(image_id);
  if (it == index_.end()) throw DataError(cat(path_, ": no image '", image_id, "'"));
  return offsets_[it->second + 1] - offsets_[it->second];
}

ImageRegions FeatureStore::get(const std::string& image_id, bool with_cls_prob) const {
  auto it = index_.find(image_id);
  if (it == index_.end())
    throw DataError(cat("region-feature file ", path_, " has no image with id '", image_id, "'"));
  const int64_t index = it->second;
  if (cache_)
    if (auto hit = cache_->find(serial_, index, with_cls_prob && cls_dim_ > 0)) return *hit;
  ImageRegions regions = read_image(index, with_cls_prob);
  if (cache_) cache_->put(serial_, index, regions);
  return regions;
}

std::shared_ptr<FeatureStore> open_feature_store(const std::string& path, int64_t cache_mb) {
  static std::mutex m;
  static std::unordered_map<std::string, std::weak_ptr<FeatureStore>> open_stores;
  std::lock_guard<std::mutex> lock(m);
  if (auto existing = open_stores[path].lock()) return existing;
  auto store = std::make_shared<FeatureStore>(path, process_feature_cache(cache_mb));
  log::info(cat("opened region features ", path, ": ", store->num_images(), " images, dim ", store->feature_dim(),
                store->features_half() ? " float16" : " float32", ", fingerprint '", store->fingerprint(),
                "', read by ", store->read_path()));
  open_stores[path] = store;
  return store;
}

}  // namespace vlmt

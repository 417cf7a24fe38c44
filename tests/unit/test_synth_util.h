#pragma once
// Helpers shared by the synthetic-world, feature-writer and clean-split tests.
#include <H5Cpp.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace vlmt::testing {

// A fresh directory under the system temp dir, removed with its contents at scope end.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("vlmt_" + tag + "_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_lines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p);
  for (const auto& l : lines) out << l << "\n";
}

// Whole 1-D or 2-D numeric dataset as float / int64.
inline std::vector<float> read_floats(const H5::H5File& f, const std::string& name) {
  auto ds = f.openDataSet(name);
  hsize_t n = static_cast<hsize_t>(ds.getSpace().getSimpleExtentNpoints());
  std::vector<float> v(n);
  if (n) ds.read(v.data(), H5::PredType::NATIVE_FLOAT);
  return v;
}
inline std::vector<long long> read_ints(const H5::H5File& f, const std::string& name) {
  auto ds = f.openDataSet(name);
  hsize_t n = static_cast<hsize_t>(ds.getSpace().getSimpleExtentNpoints());
  std::vector<long long> v(n);
  if (n) ds.read(v.data(), H5::PredType::NATIVE_LLONG);
  return v;
}
inline std::vector<std::string> read_ids(const H5::H5File& f) {
  auto ds = f.openDataSet("ids");
  hsize_t n = static_cast<hsize_t>(ds.getSpace().getSimpleExtentNpoints());
  std::vector<char*> raw(n);
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  if (n) ds.read(raw.data(), type);
  std::vector<std::string> ids(raw.begin(), raw.end());
  if (n) H5::DataSet::vlenReclaim(raw.data(), type, ds.getSpace());
  return ids;
}
inline std::string read_string_attr(const H5::H5File& f, const std::string& name) {
  auto a = f.openAttribute(name);
  std::string v;
  a.read(a.getStrType(), v);
  return v;
}
inline int read_int_attr(const H5::H5File& f, const std::string& name) {
  int v = 0;
  f.openAttribute(name).read(H5::PredType::NATIVE_INT, &v);
  return v;
}

}  // namespace vlmt::testing

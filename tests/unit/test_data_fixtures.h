#pragma once
// Test helpers: write region-feature files with the HDF5 C++ API (independently of the
// library's writer) and build a small data root with one annotation file per task.
#include <H5Cpp.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vlmt::fixture {

struct TestImage {
  std::string id;
  int h = 0, w = 0;
  torch::Tensor features;  // [N, D] float32
  torch::Tensor boxes;     // [N, 4]
  torch::Tensor cls_prob;  // [N, C] or undefined
};

inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("vlmt_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_string_attr(H5::H5File& f, const char* name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  H5::Attribute a = f.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  a.write(type, value);
}

// Writes docs/DATA.md's layout; `half` stores /features as IEEE float16 (as h5py does).
inline void write_feature_file(const std::string& path, const std::vector<TestImage>& images,
                               bool half = false, const std::string& fingerprint = "test/8/abc") {
  H5::H5File f(path, H5F_ACC_TRUNC);
  const hsize_t n = images.size();
  std::vector<const char*> ids;
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> hs, ws;
  for (const auto& im : images) {
    ids.push_back(im.id.c_str());
    offsets.push_back(offsets.back() + im.features.size(0));
    hs.push_back(im.h);
    ws.push_back(im.w);
  }
  H5::StrType str(H5::PredType::C_S1, H5T_VARIABLE);
  H5::DataSpace one(1, &n);
  f.createDataSet("ids", str, one).write(ids.data(), str);
  hsize_t n1 = n + 1;
  H5::DataSpace off_space(1, &n1);
  f.createDataSet("offsets", H5::PredType::STD_I64LE, off_space).write(offsets.data(), H5::PredType::NATIVE_INT64);
  f.createDataSet("image_h", H5::PredType::STD_I32LE, one).write(hs.data(), H5::PredType::NATIVE_INT32);
  f.createDataSet("image_w", H5::PredType::STD_I32LE, one).write(ws.data(), H5::PredType::NATIVE_INT32);
  std::vector<torch::Tensor> feats, boxes, cls;
  for (const auto& im : images) {
    feats.push_back(im.features);
    boxes.push_back(im.boxes);
    if (im.cls_prob.defined()) cls.push_back(im.cls_prob);
  }
  auto write_2d = [&](const char* name, torch::Tensor t, const H5::DataType& file_type, const H5::DataType& mem_type) {
    t = t.contiguous();
    hsize_t dims[2] = {static_cast<hsize_t>(t.size(0)), static_cast<hsize_t>(t.size(1))};
    H5::DataSpace space(2, dims);
    f.createDataSet(name, file_type, space).write(t.data_ptr(), mem_type);
  };
  const int64_t D = images.at(0).features.size(1);
  if (half) {
    H5::FloatType f16(H5::PredType::IEEE_F32LE);
    f16.setFields(15, 10, 5, 0, 10);
    f16.setSize(2);
    f16.setEbias(15);
    write_2d("features", torch::cat(feats).to(torch::kHalf), f16, f16);
  } else {
    write_2d("features", torch::cat(feats).to(torch::kFloat), H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT);
  }
  write_2d("boxes", torch::cat(boxes).to(torch::kFloat), H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT);
  if (!cls.empty())
    write_2d("cls_prob", torch::cat(cls).to(torch::kFloat), H5::PredType::IEEE_F32LE, H5::PredType::NATIVE_FLOAT);
  int64_t dim = D, version = 1;
  H5::DataSpace scalar(H5S_SCALAR);
  f.createAttribute("feature_dim", H5::PredType::STD_I64LE, scalar).write(H5::PredType::NATIVE_INT64, &dim);
  f.createAttribute("format_version", H5::PredType::STD_I64LE, scalar).write(H5::PredType::NATIVE_INT64, &version);
  write_string_attr(f, "detector", "test");
  write_string_attr(f, "settings_hash", "abc");
  write_string_attr(f, "fingerprint", fingerprint);
}

// An image of `n` random regions with boxes inside a w×h image (deterministic from `seed`).
inline TestImage random_image(const std::string& id, int64_t n, int64_t dim, int64_t classes, uint64_t seed,
                              int w = 640, int h = 480) {
  torch::manual_seed(seed);
  TestImage im{id, h, w, torch::randn({n, dim}), torch::empty({n, 4}), {}};
  auto xy = torch::rand({n, 2}) * torch::tensor({w * 0.6f, h * 0.6f});
  auto wh = torch::rand({n, 2}) * torch::tensor({w * 0.35f, h * 0.35f}) + 8.f;
  im.boxes = torch::cat({xy, xy + wh}, 1).round();
  if (classes > 0) im.cls_prob = torch::softmax(torch::randn({n, classes}), 1);
  return im;
}

inline void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  for (const auto& l : lines) out << l << "\n";
}

inline std::vector<std::string> test_vocab_tokens() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "what", "color", "is", "the", "dog", "cat",
          "a",     "on",    "left",  "right", "red",    "blue", "man",   "?",  ".",   ",",   "##s",
          "there", "two",   "one",   "image", "photo",  "of",   "sitting", "yes", "no", "un", "##aff",
          "##able"};
}

}  // namespace vlmt::fixture

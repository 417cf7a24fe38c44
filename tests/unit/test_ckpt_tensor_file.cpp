// Tensor files: CRC-32 reference values, round trips per dtype, and detection of damage.
#include <gtest/gtest.h>

#include <cstring>

#include "ckpt/crc32.h"
#include "ckpt/tensor_file.h"
#include "core/error.h"
#include "test_ckpt_util.h"

namespace vlmt::ckpt {
namespace {

using test_util::checkpoint_error;
using test_util::TempDir;

TEST(CkptCrc32, MatchesZlibReferenceValues) {
  // The standard CRC-32 check value, and two values from Python's zlib.crc32.
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
}

TEST(CkptCrc32, ChunkedEqualsWholeAtEveryAlignment) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  uint32_t whole = crc32(data.data(), data.size());
  for (size_t split : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    uint32_t first = crc32(data.data(), split);
    EXPECT_EQ(crc32(data.data() + split, data.size() - split, first), whole) << split;
  }
  data[123] ^= 1;
  EXPECT_NE(crc32(data.data(), data.size()), whole);
}

NamedTensors one_of_each_dtype() {
  torch::manual_seed(3);
  return {
      {"bert.f32.weight", torch::randn({3, 5})},
      {"f16", torch::randn({4, 2}).to(torch::kFloat16)},
      {"bf16", torch::randn({7}).to(torch::kBFloat16)},
      {"f64", torch::randn({2, 2, 2}, torch::kFloat64)},
      {"i64", torch::arange(-5, 6, torch::kInt64).reshape({11, 1})},
      {"i32", torch::tensor({1, -2, 3}, torch::kInt32)},
      {"u8", torch::tensor({0, 255, 17}, torch::kUInt8)},
      {"flag", torch::tensor({true, false})},
      {"scalar_step", torch::tensor(42.5)},
      {"empty", torch::zeros({0, 4})},
      // A non-contiguous view must be stored as its logical values.
      {"transposed", torch::arange(6, torch::kFloat32).reshape({2, 3}).t()},
  };
}

TEST(CkptTensorFile, RoundTripsEveryDtypeAndShapeInOrder) {
  TempDir dir;
  NamedTensors written = one_of_each_dtype();
  write_tensors(dir.file("p.h5"), written);
  NamedTensors read = read_tensors(dir.file("p.h5"));
  ASSERT_EQ(read.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    SCOPED_TRACE(written[i].first);
    EXPECT_EQ(read[i].first, written[i].first);
    EXPECT_EQ(read[i].second.scalar_type(), written[i].second.scalar_type());
    EXPECT_EQ(read[i].second.sizes(), written[i].second.sizes());
    EXPECT_TRUE(torch::equal(read[i].second, written[i].second));
  }
}

TEST(CkptTensorFile, FlippedDataByteIsReportedWithTensorName) {
  TempDir dir;
  std::string path = dir.file("p.h5");
  write_tensors(path, {{"a.weight", torch::ones({16})}, {"b.weight", torch::ones({16})}});
  test_util::xor_byte(path, test_util::dataset_offset(path, "/params/b.weight") + 5);
  std::string message = checkpoint_error([&] { read_tensors(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("b.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("checksum"), std::string::npos) << message;
}

TEST(CkptTensorFile, MissingNotHdf5AndTruncatedFilesGiveClearErrors) {
  TempDir dir;
  EXPECT_NE(checkpoint_error([&] { read_tensors(dir.file("nope.h5")); }).find("no such file"),
            std::string::npos);
  std::string text = dir.file("text.h5");
  std::ofstream(text) << "not hdf5 at all";
  EXPECT_NE(checkpoint_error([&] { read_tensors(text); }).find("not an HDF5 file"),
            std::string::npos);
  std::string path = dir.file("p.h5");
  write_tensors(path, {{"w", torch::randn({256, 256})}});
  test_util::truncate_to(path, std::filesystem::file_size(path) / 2);
  std::string message = checkpoint_error([&] { read_tensors(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(CkptTensorFile, RejectsBadAndDuplicateNames) {
  TempDir dir;
  EXPECT_NE(checkpoint_error([&] {
              write_tensors(dir.file("a.h5"), {{"a/b", torch::ones({1})}});
            }).find("a/b"),
            std::string::npos);
  EXPECT_NE(checkpoint_error([&] {
              write_tensors(dir.file("b.h5"), {{"x", torch::ones({1})}, {"x", torch::ones({1})}});
            }).find("given twice"),
            std::string::npos);
}

TEST(CkptTensorFile, UnsupportedDtypeIsACheckpointError) {
  TempDir dir;
  auto complex = torch::zeros({2}, torch::kComplexFloat);
  EXPECT_NE(checkpoint_error([&] { write_tensors(dir.file("c.h5"), {{"z", complex}}); })
                .find("unsupported"),
            std::string::npos);
}

}  // namespace
}  // namespace vlmt::ckpt

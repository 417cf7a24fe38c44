// safetensors parsing: a file assembled byte by byte here, a round trip of every dtype, and
// each malformed-input error.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "ckpt/safetensors.h"
#include "core/error.h"
#include "test_ckpt_util.h"

namespace vlmt::ckpt {
namespace {

using test_util::checkpoint_error;
using test_util::TempDir;

// 8-byte little-endian length + header + data, built without the library's writer.
std::string assemble(const std::string& header, const std::string& data) {
  std::string out;
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  return out + header + data;
}

std::string raw_floats(std::initializer_list<float> values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

TEST(CkptSafetensors, ParsesAHandWrittenFile) {
  TempDir dir;
  std::string data = raw_floats({1, 2, 3, 4, 5, 6});
  int64_t ids[2] = {-7, 1LL << 40};
  data.append(reinterpret_cast<const char*>(ids), sizeof ids);
  // Names deliberately out of data order; the parser returns them in data order.
  std::string header = R"({"b.ids":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},)"
                       R"("__metadata__":{"format":"pt"},)"
                       R"("a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";
  std::string path = dir.file("m.safetensors");
  std::ofstream(path, std::ios::binary) << assemble(header, data);

  SafetensorsFile file = read_safetensors(path);
  ASSERT_EQ(file.tensors.size(), 2u);
  EXPECT_EQ(file.tensors[0].first, "a.weight");
  EXPECT_TRUE(torch::equal(file.tensors[0].second,
                           torch::arange(1, 7, torch::kFloat32).reshape({2, 3})));
  EXPECT_EQ(file.tensors[1].first, "b.ids");
  EXPECT_EQ(file.tensors[1].second.dtype(), torch::kInt64);
  EXPECT_EQ(file.tensors[1].second[1].item<int64_t>(), 1LL << 40);
  EXPECT_EQ(file.metadata.at("format"), "pt");
}

TEST(CkptSafetensors, RoundTripsEverySupportedDtype) {
  torch::manual_seed(0);
  NamedTensors tensors = {{"f32", torch::randn({3, 2})},
                          {"f16", torch::randn({4}).to(torch::kFloat16)},
                          {"bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
                          {"f64", torch::randn({1}, torch::kFloat64)},
                          {"i64", torch::tensor({5, -6}, torch::kInt64)},
                          {"scalar", torch::tensor(2.5f)}};
  SafetensorsFile file = parse_safetensors(serialize_safetensors(tensors, {{"k", "v"}}), "mem");
  ASSERT_EQ(file.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(file.tensors[i].first, tensors[i].first);
    EXPECT_TRUE(torch::equal(file.tensors[i].second, tensors[i].second)) << tensors[i].first;
  }
  EXPECT_EQ(file.metadata.at("k"), "v");
}

std::string error_for(const std::string& bytes) {
  return checkpoint_error([&] { parse_safetensors(bytes, "bad.safetensors"); });
}

TEST(CkptSafetensors, MalformedInputsGiveClearErrors) {
  std::string ok = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string data = raw_floats({1, 2});
  EXPECT_NE(error_for("abc").find("truncated"), std::string::npos);
  EXPECT_NE(error_for(assemble(ok, data).substr(0, 20)).find("exceeds the file"), std::string::npos);
  EXPECT_NE(error_for(assemble("{\"w\": [1,", data)).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_for(assemble(ok, data.substr(0, 4))).find("out of range"), std::string::npos);
  std::string wrong_size = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  EXPECT_NE(error_for(assemble(wrong_size, data)).find("needs 12 bytes"), std::string::npos);
  std::string bad_dtype = R"({"w":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})";
  EXPECT_NE(error_for(assemble(bad_dtype, data)).find("unsupported dtype U8"), std::string::npos);
  std::string no_offsets = R"({"w":{"dtype":"F32","shape":[2]}})";
  EXPECT_NE(error_for(assemble(no_offsets, data)).find("tensor w"), std::string::npos);
  std::string overlap = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  EXPECT_NE(error_for(assemble(overlap, data)).find("overlap"), std::string::npos);
  EXPECT_THROW(read_safetensors("/nonexistent/x.safetensors"), CheckpointError);
}

}  // namespace
}  // namespace vlmt::ckpt

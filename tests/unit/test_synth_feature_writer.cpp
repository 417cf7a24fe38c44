// FeatureFileWriter round trip: what it writes is read back with the HDF5 C++ API directly.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/feature_writer.h"
#include "test_synth_util.h"

namespace vlmt {
namespace {
using testing::TempDir;

struct Image {
  std::string id;
  int h, w;
  std::vector<float> features, boxes, cls;
};

std::vector<Image> sample_images(int dim, int classes) {
  std::vector<Image> images;
  const int regions[] = {3, 0, 5};  // an image without regions is legal
  for (int i = 0; i < 3; ++i) {
    Image im{"img" + std::to_string(i), 100 + i, 200 + i, {}, {}, {}};
    for (int r = 0; r < regions[i]; ++r) {
      for (int k = 0; k < dim; ++k) im.features.push_back(0.25f * (i * 100 + r * 10 + k));
      for (int k = 0; k < 4; ++k) im.boxes.push_back(static_cast<float>(i + r + k));
      for (int k = 0; k < classes; ++k) im.cls.push_back(k == r % classes ? 1.f : 0.f);
    }
    images.push_back(im);
  }
  return images;
}

TEST(SynthFeatureWriter, RoundTripFloat32WithClassProbabilities) {
  TempDir dir("fw");
  const auto path = (dir.path() / "coco.h5").string();
  FeatureFileOptions o{8, "synthetic", "abc123", false, 3, 4};
  const auto images = sample_images(8, 3);
  {
    FeatureFileWriter w(path, o);
    for (const auto& im : images) w.add_image(im.id, im.h, im.w, im.features, im.boxes, im.cls);
    EXPECT_FALSE(std::filesystem::exists(path)) << "final name appears only on close";
    EXPECT_TRUE(std::filesystem::exists(path + ".tmp"));
    w.close();
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  H5::H5File f(path, H5F_ACC_RDONLY);
  EXPECT_EQ(testing::read_ids(f), (std::vector<std::string>{"img0", "img1", "img2"}));
  EXPECT_EQ(testing::read_ints(f, "offsets"), (std::vector<long long>{0, 3, 3, 8}));
  EXPECT_EQ(testing::read_ints(f, "image_h"), (std::vector<long long>{100, 101, 102}));
  EXPECT_EQ(testing::read_ints(f, "image_w"), (std::vector<long long>{200, 201, 202}));
  std::vector<float> features, boxes, cls;
  for (const auto& im : images) {
    features.insert(features.end(), im.features.begin(), im.features.end());
    boxes.insert(boxes.end(), im.boxes.begin(), im.boxes.end());
    cls.insert(cls.end(), im.cls.begin(), im.cls.end());
  }
  EXPECT_EQ(testing::read_floats(f, "features"), features);
  EXPECT_EQ(testing::read_floats(f, "boxes"), boxes);
  EXPECT_EQ(testing::read_floats(f, "cls_prob"), cls);
  hsize_t dims[2];
  f.openDataSet("features").getSpace().getSimpleExtentDims(dims);
  EXPECT_EQ(dims[0], 8u);
  EXPECT_EQ(dims[1], 8u);
  EXPECT_EQ(f.openDataSet("features").getDataType().getSize(), 4u);
  EXPECT_EQ(testing::read_int_attr(f, "feature_dim"), 8);
  EXPECT_EQ(testing::read_int_attr(f, "format_version"), 1);
  EXPECT_EQ(testing::read_string_attr(f, "detector"), "synthetic");
  EXPECT_EQ(testing::read_string_attr(f, "settings_hash"), "abc123");
  EXPECT_EQ(testing::read_string_attr(f, "fingerprint"), "synthetic/8/abc123");
}

TEST(SynthFeatureWriter, Float16WithoutClassProbabilities) {
  TempDir dir("fw16");
  const auto path = (dir.path() / "vg.h5").string();
  FeatureFileOptions o{4, "det", "h", true, 0, 512};
  FeatureFileWriter w(path, o);
  // Values exactly representable in half precision survive; others round to 11 bits.
  w.add_image("a", 10, 20, {0.5f, -2.f, 1024.f, 0.1f, 3.f, 0.f, -0.25f, 65504.f},
              {0, 0, 1, 1, 1, 1, 2, 2});
  w.close();
  H5::H5File f(path, H5F_ACC_RDONLY);
  EXPECT_EQ(f.openDataSet("features").getDataType().getSize(), 2u);
  EXPECT_FALSE(f.nameExists("cls_prob"));
  const auto v = testing::read_floats(f, "features");
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0], 0.5f);
  EXPECT_EQ(v[1], -2.f);
  EXPECT_EQ(v[2], 1024.f);
  EXPECT_NEAR(v[3], 0.1f, 1e-4);
  EXPECT_NE(v[3], 0.1f);
  EXPECT_EQ(v[7], 65504.f);
}

TEST(SynthFeatureWriter, ErrorsNameTheFileAndLeaveNothingBehind) {
  TempDir dir("fwerr");
  const auto path = (dir.path() / "x.h5").string();
  {
    FeatureFileWriter w(path, {2, "d", "h", false, 0, 16});
    w.add_image("a", 1, 1, {1, 2}, {0, 0, 1, 1});
    try {
      w.add_image("b", 1, 1, {1, 2, 3}, {0, 0, 1, 1});
      FAIL() << "size mismatch accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    }
    EXPECT_THROW(w.add_image("a", 1, 1, {1, 2}, {0, 0, 1, 1}), DataError);  // duplicate id
  }  // destroyed without close: temp file removed, no final file
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  try {
    FeatureFileWriter bad((dir.path() / "missing_dir" / "y.h5").string(), {2, "d", "h"});
    FAIL() << "unwritable path accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("y.h5"), std::string::npos);
  }
}

}  // namespace
}  // namespace vlmt

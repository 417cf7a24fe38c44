#include <gtest/gtest.h>

#include <thread>

#include "core/error.h"
#include "data/draws.h"
#include "data/feature_store.h"
#include "test_data_fixtures.h"

using namespace vlmt;
using fixture::TestImage;

namespace {
std::vector<TestImage> three_images() {
  return {fixture::random_image("100", 4, 8, 5, 1, 640, 480), fixture::random_image("abc", 2, 8, 5, 2, 320, 200),
          fixture::random_image("7", 6, 8, 5, 3, 100, 100)};
}
}  // namespace

TEST(FeatureStore, RoundTripFloat32) {
  auto dir = fixture::fresh_dir("features32");
  auto images = three_images();
  const auto path = (dir / "coco.h5").string();
  fixture::write_feature_file(path, images, false, "det/8/xyz");
  FeatureStore store(path, std::make_shared<FeatureCache>(1 << 20));
  EXPECT_TRUE(store.direct_reads()) << store.read_path();
  EXPECT_EQ(store.feature_dim(), 8);
  EXPECT_EQ(store.cls_dim(), 5);
  EXPECT_EQ(store.fingerprint(), "det/8/xyz");
  EXPECT_EQ(store.ids(), (std::vector<std::string>{"100", "abc", "7"}));
  for (const auto& im : images) {
    ImageRegions r = store.get(im.id);
    EXPECT_EQ(r.h, im.h);
    EXPECT_EQ(r.w, im.w);
    EXPECT_TRUE(torch::equal(r.features, im.features));
    EXPECT_TRUE(torch::equal(r.boxes, im.boxes));
    EXPECT_FALSE(r.cls_prob.defined());  // only pretraining asks for the class scores
    EXPECT_TRUE(torch::equal(store.get(im.id, /*with_cls_prob=*/true).cls_prob, im.cls_prob));
    EXPECT_TRUE(torch::equal(store.get(im.id).cls_prob, im.cls_prob));  // the cached image has them now
  }
}

TEST(FeatureStore, RoundTripFloat16) {
  auto dir = fixture::fresh_dir("features16");
  auto images = three_images();
  const auto path = (dir / "vg.h5").string();
  fixture::write_feature_file(path, images, true);
  FeatureStore store(path);
  EXPECT_TRUE(store.direct_reads()) << store.read_path();
  ImageRegions r = store.get("7");
  EXPECT_EQ(r.features.scalar_type(), torch::kHalf);  // the stored precision, until the batch
  EXPECT_TRUE(torch::equal(r.features, images[2].features.to(torch::kHalf)));
  const RegionInput in = make_region_input(r, 10);
  EXPECT_EQ(in.features.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(in.features.narrow(0, 1, 6), images[2].features.to(torch::kHalf).to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(in.features[0], images[2].features.to(torch::kHalf).to(torch::kFloat).mean(0)));
}

// The fixture writes contiguous datasets. Chunks of whole rows (what the writers make; an image
// may straddle two) are read with pread too; compressed chunks and chunks narrower than a row go
// through HDF5's own reader. Every layout gives the same images.
TEST(FeatureStore, EveryLayoutReadsTheSame) {
  auto dir = fixture::fresh_dir("features_layouts");
  auto images = three_images();
  const auto plain = (dir / "plain.h5").string();
  fixture::write_feature_file(plain, images);
  const FeatureStore reference(plain);
  EXPECT_TRUE(reference.direct_reads()) << reference.read_path();
  struct Layout {
    const char* name;
    bool whole_rows, deflate, direct;
    const char* why;
  };
  for (const Layout& layout : {Layout{"rows", true, false, true, ""}, Layout{"gzip", true, true, false, "filtered"},
                               Layout{"narrow", false, false, false, "whole rows"}}) {
    const auto path = (dir / (std::string(layout.name) + ".h5")).string();
    {
      H5::H5File in(plain, H5F_ACC_RDONLY), out(path, H5F_ACC_TRUNC);
      for (const char* name : {"ids", "offsets", "image_h", "image_w", "features", "boxes", "cls_prob"}) {
        H5::DataSet src = in.openDataSet(name);
        H5::DataSpace space = src.getSpace();
        H5::DSetCreatPropList plist;
        if (space.getSimpleExtentNdims() == 2) {
          hsize_t dims[2];
          space.getSimpleExtentDims(dims);
          hsize_t chunk[2] = {2, layout.whole_rows ? dims[1] : 1};
          plist.setChunk(2, chunk);
          if (layout.deflate) plist.setDeflate(1);
        }
        H5::DataType type = src.getDataType();
        H5::DataSet dst = out.createDataSet(name, type, space, plist);
        if (type.getClass() == H5T_STRING) {
          std::vector<char*> strings(space.getSimpleExtentNpoints());
          src.read(strings.data(), type);
          dst.write(strings.data(), type);
          H5::DataSet::vlenReclaim(strings.data(), type, space);
        } else {
          std::vector<char> buf(space.getSimpleExtentNpoints() * type.getSize());
          src.read(buf.data(), type);
          dst.write(buf.data(), type);
        }
      }
    }
    FeatureStore store(path);
    EXPECT_EQ(store.direct_reads(), layout.direct) << store.read_path();
    EXPECT_NE(store.read_path().find(layout.direct ? "pread" : layout.why), std::string::npos) << store.read_path();
    for (const auto& im : images) {
      const ImageRegions a = store.get(im.id, true), b = reference.get(im.id, true);
      EXPECT_TRUE(torch::equal(a.features, b.features) && torch::equal(a.boxes, b.boxes) &&
                  torch::equal(a.cls_prob, b.cls_prob))
          << path << " image " << im.id;
    }
  }
}

TEST(FeatureStore, UnknownIdAndBadLayoutAreDataErrors) {
  auto dir = fixture::fresh_dir("features_bad");
  const auto path = (dir / "coco.h5").string();
  fixture::write_feature_file(path, three_images());
  {
    FeatureStore store(path);
    try {
      store.get("999");
      FAIL();
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("999"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    }
  }
  {  // drop /boxes (the store above is closed: HDF5 refuses a second, writable open)
    H5::H5File f(path, H5F_ACC_RDWR);
    f.unlink("boxes");
  }
  try {
    FeatureStore broken(path);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/boxes"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  EXPECT_THROW(FeatureStore((dir / "missing.h5").string()), DataError);
}

TEST(FeatureStore, CacheIsBoundedInBytesAcrossStores) {
  auto dir = fixture::fresh_dir("features_lru");
  const auto path = (dir / "coco.h5").string(), other = (dir / "vg.h5").string();
  fixture::write_feature_file(path, three_images());
  fixture::write_feature_file(other, three_images());
  const FeatureStore probe(path);
  const int64_t b100 = probe.get("100").bytes(), babc = probe.get("abc").bytes(), b7 = probe.get("7").bytes();
  // Room for "100" and "abc" together, not for "7" besides either of them.
  auto cache = std::make_shared<FeatureCache>(b100 + babc);
  ASSERT_EQ(b7, b100 + babc);
  FeatureStore store(path, cache), second(other, cache);
  store.get("100");
  store.get("abc");
  EXPECT_EQ(store.disk_reads(), 2);
  EXPECT_EQ(cache->bytes(), b100 + babc);
  store.get("100");  // hit; "abc" is now least recent
  EXPECT_EQ(store.disk_reads(), 2);
  second.get("abc");  // the same id in another file is another image: evicts the least recent
  EXPECT_EQ(second.disk_reads(), 1);
  EXPECT_EQ(cache->bytes(), b100 + babc);
  store.get("100");  // still there
  EXPECT_EQ(store.disk_reads(), 2);
  store.get("abc");  // evicted
  EXPECT_EQ(store.disk_reads(), 3);
  EXPECT_EQ(store.bytes_read(), b100 + 2 * babc);
  store.get("7");  // as large as the whole cache: evicts the rest
  EXPECT_EQ(cache->entries(), 1);
  EXPECT_EQ(cache->bytes(), b7);
  {
    FeatureStore closing(other, cache);
    closing.get("100");
    EXPECT_EQ(cache->entries(), 1);
  }  // a closing store's images leave the cache
  EXPECT_EQ(cache->entries(), 0);
  EXPECT_EQ(cache->bytes(), 0);
}

TEST(FeatureStore, ConcurrentReadersGetTheSameData) {
  auto dir = fixture::fresh_dir("features_threads");
  auto images = three_images();
  const auto path = (dir / "coco.h5").string();
  fixture::write_feature_file(path, images);
  FeatureStore store(path, std::make_shared<FeatureCache>(1));  // every image too large: all reads go to disk
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 50; ++k) {
        const auto& im = images[(k + t) % 3];
        if (!torch::equal(store.get(im.id).features, im.features)) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(RegionInput, MeanImgRegionLocationsAndPadding) {
  TestImage im = fixture::random_image("1", 4, 8, 0, 9, 200, 100);
  im.boxes = torch::tensor({{0.f, 0.f, 100.f, 50.f}, {50.f, 25.f, 150.f, 75.f}, {10.f, 10.f, 20.f, 20.f},
                            {0.f, 0.f, 200.f, 100.f}});
  ImageRegions r{im.h, im.w, im.features, im.boxes, {}};
  RegionInput in = make_region_input(r, 6);
  EXPECT_EQ(in.count, 5);
  EXPECT_TRUE(torch::allclose(in.features[0], im.features.mean(0)));
  EXPECT_TRUE(torch::equal(in.features.narrow(0, 1, 4), im.features));
  EXPECT_TRUE(torch::equal(in.features[5], torch::zeros({8})));
  EXPECT_TRUE(torch::allclose(in.spatials[0], torch::tensor({0.f, 0.f, 1.f, 1.f, 1.f})));
  EXPECT_TRUE(torch::allclose(in.spatials[1], torch::tensor({0.f, 0.f, 0.5f, 0.5f, 0.25f})));
  EXPECT_TRUE(torch::allclose(in.spatials[2], torch::tensor({0.25f, 0.25f, 0.75f, 0.75f, 0.25f})));
  EXPECT_TRUE(torch::allclose(in.spatials[3], torch::tensor({0.05f, 0.1f, 0.1f, 0.2f, 0.005f})));
  EXPECT_TRUE(torch::equal(in.spatials[5], torch::zeros({5})));
  EXPECT_TRUE(torch::equal(in.mask, torch::tensor({1, 1, 1, 1, 1, 0}, torch::kInt64)));

  // Capped: IMG + 2 regions; the IMG feature is still the mean of all 4.
  RegionInput capped = make_region_input(r, 3);
  EXPECT_EQ(capped.count, 3);
  EXPECT_TRUE(torch::allclose(capped.features[0], im.features.mean(0)));
  EXPECT_TRUE(torch::equal(capped.features[2], im.features[1]));

  // Appended regions follow the detected ones, which make room for them.
  ImageRegions extra{im.h, im.w, torch::ones({2, 8}), torch::tensor({{0.f, 0.f, 20.f, 10.f}, {0.f, 0.f, 2.f, 1.f}}), {}};
  RegionInput with = make_region_input(r, 5, &extra);
  EXPECT_EQ(with.count, 5);
  EXPECT_EQ(with.appended_at, 3);
  EXPECT_TRUE(torch::equal(with.features[3], torch::ones({8})));
  EXPECT_TRUE(torch::allclose(with.spatials[3], torch::tensor({0.f, 0.f, 0.1f, 0.1f, 0.01f})));
  EXPECT_THROW(make_region_input(r, 2, &extra), DataError);
}

// The released datasets' IoU: corners are inclusive pixels (a box spans x2 − x1 + 1 of them).
TEST(RegionInput, BoxIouCountsInclusivePixels) {
  auto boxes = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {5.f, 0.f, 15.f, 10.f}, {20.f, 20.f, 30.f, 30.f},
                              {11.f, 0.f, 12.f, 10.f}});
  auto iou = box_iou(boxes, torch::tensor({0.f, 0.f, 10.f, 10.f}));
  // 11×11 boxes; 6×11 overlap; 11 px apart: none; touching at x = 10/11 (inclusive): none.
  EXPECT_TRUE(torch::allclose(iou, torch::tensor({1.f, 66.f / 176.f, 0.f, 0.f})));
  // 2×1-pixel boxes one pixel apart: 1/3 with continuous corners, 1/2 here (3×2 px, 2×2 shared).
  EXPECT_FLOAT_EQ(box_iou(torch::tensor({{10.f, 10.f, 12.f, 11.f}}), torch::tensor({11.f, 10.f, 13.f, 11.f}))
                      .item<float>(), 0.5f);
  // A degenerate box (x2 = x1) is one pixel wide, not empty.
  EXPECT_FLOAT_EQ(box_iou(torch::tensor({{3.f, 3.f, 3.f, 3.f}}), torch::tensor({3.f, 3.f, 3.f, 3.f})).item<float>(), 1.f);
  EXPECT_TRUE(torch::equal(box_iou_matrix(boxes, boxes).diagonal(), torch::ones({4})));
}

// Draws from a seed are the same everywhere and within their ranges; index() has no modulo bias
// to speak of at small n (each of 3 values within 2% of a third over 30000 draws).
TEST(DataDraws, RngDrawsAreSeededAndInRange) {
  RngDraws a(7), b(7), c(8);
  std::vector<int64_t> counts(3, 0);
  bool differ = false;
  for (int i = 0; i < 30000; ++i) {
    const double u = a.uniform();
    EXPECT_EQ(u, b.uniform());
    EXPECT_TRUE(u >= 0.0 && u < 1.0);
    const int64_t k = a.index(3);
    EXPECT_EQ(k, b.index(3));
    ASSERT_TRUE(k >= 0 && k < 3);
    ++counts[k];
    differ = differ || c.uniform() != u;
  }
  EXPECT_TRUE(differ);
  for (int64_t n : counts) EXPECT_NEAR(n / 30000.0, 1.0 / 3.0, 0.02);
  EXPECT_EQ(a.index(1), 0);
  EXPECT_THROW(a.index(0), DataError);
}

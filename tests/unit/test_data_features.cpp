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
  FeatureStore store(path, 16);
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
    EXPECT_TRUE(torch::allclose(r.cls_prob, im.cls_prob));
  }
}

TEST(FeatureStore, RoundTripFloat16) {
  auto dir = fixture::fresh_dir("features16");
  auto images = three_images();
  const auto path = (dir / "vg.h5").string();
  fixture::write_feature_file(path, images, true);
  FeatureStore store(path, 0);
  ImageRegions r = store.get("7");
  EXPECT_EQ(r.features.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(r.features, images[2].features.to(torch::kHalf).to(torch::kFloat)));
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

TEST(FeatureStore, LruCacheEvictsLeastRecentlyUsed) {
  auto dir = fixture::fresh_dir("features_lru");
  const auto path = (dir / "coco.h5").string();
  fixture::write_feature_file(path, three_images());
  FeatureStore store(path, 2);
  store.get("100");
  store.get("abc");
  EXPECT_EQ(store.disk_reads(), 2);
  store.get("100");  // hit; "abc" is now least recent
  EXPECT_EQ(store.disk_reads(), 2);
  store.get("7");  // evicts "abc"
  EXPECT_EQ(store.cache_size(), 2);
  store.get("100");
  EXPECT_EQ(store.disk_reads(), 3);
  store.get("abc");
  EXPECT_EQ(store.disk_reads(), 4);
}

TEST(FeatureStore, ConcurrentReadersGetTheSameData) {
  auto dir = fixture::fresh_dir("features_threads");
  auto images = three_images();
  const auto path = (dir / "coco.h5").string();
  fixture::write_feature_file(path, images);
  FeatureStore store(path, 1);
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

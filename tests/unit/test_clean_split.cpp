// Clean split on a hand-built data root whose overlaps (and so Table 1 / Table 7) are known.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "data/clean_split.h"
#include "test_synth_util.h"

namespace vlmt {
namespace {
namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_lines;

std::string item(const std::string& image) { return R"({"image_id": ")" + image + R"(", "x": 1})"; }
std::string pair(const std::string& a, const std::string& b) {
  return R"({"pair_id": "p", "image_ids": [")" + a + R"(", ")" + b + R"("], "label": true})";
}

// vqa: train+minval {1,2,3,4}, test-dev {10,11}, test {10,11,12}   (COCO ids)
// refcoco: train+val {10,1}, testA {2,3}, testB {20,21}, test = testA ∪ testB (COCO ids)
// nlvr2: train+dev {30,31,32,33}, test {10,40}                 (NLVR2 ids: its "10" is not COCO's)
// every other task absent.
void build_root(const fs::path& root) {
  const fs::path a = root / "annotations";
  write_lines(a / "vqa/train.jsonl", {item("1"), item("2"), "", item("3"), item("1")});
  write_lines(a / "vqa/minval.jsonl", {item("4")});
  write_lines(a / "vqa/test-dev.jsonl", {item("10"), item("11")});
  write_lines(a / "vqa/test.jsonl", {item("10"), item("11"), item("12")});
  write_lines(a / "refcoco/train.jsonl", {item("10")});
  write_lines(a / "refcoco/val.jsonl", {item("1")});
  write_lines(a / "refcoco/testA.jsonl", {item("2"), item("3")});
  write_lines(a / "refcoco/testB.jsonl", {item("20"), item("21")});
  write_lines(a / "refcoco/test.jsonl", {item("2"), item("3"), item("20"), item("21")});
  write_lines(a / "nlvr2/train.jsonl", {pair("30", "31")});
  write_lines(a / "nlvr2/dev.jsonl", {pair("32", "33")});
  write_lines(a / "nlvr2/test.jsonl", {pair("10", "40")});
}

TEST(CleanSplit, KnownOverlapGivesExactTables) {
  TempDir dir("clean");
  build_root(dir.path());
  const auto r = compute_clean_split(dir.path().string());
  ASSERT_EQ(r.datasets.size(), 12u);
  // Paper order: [A] vqa, [F] refcoco (index 5), [L] nlvr2 (index 11).
  const std::size_t vqa = 0, refcoco = 5, nlvr2 = 11;
  EXPECT_EQ(r.datasets[vqa].key, "vqa");
  EXPECT_EQ(r.datasets[refcoco].label, "[F] RefCOCO");
  EXPECT_EQ(r.datasets[nlvr2].label, "[L] NLVR2");
  EXPECT_FALSE(r.datasets[1].present);
  EXPECT_FALSE(r.datasets[1].notes.empty());

  EXPECT_DOUBLE_EQ(r.overlap_percent(vqa, refcoco), 100.0 / 3);
  EXPECT_DOUBLE_EQ(r.overlap_percent(vqa, vqa), 0.0);
  EXPECT_DOUBLE_EQ(r.overlap_percent(refcoco, vqa), 50.0);
  EXPECT_DOUBLE_EQ(r.overlap_percent(refcoco, nlvr2), 0.0);
  EXPECT_DOUBLE_EQ(r.overlap_percent(nlvr2, refcoco), 0.0);  // NLVR2 "10" is not COCO 10
  EXPECT_LT(r.overlap_percent(vqa, 1), 0) << "absent column";

  EXPECT_EQ(r.removed, (std::set<std::string>{"coco:10", "coco:11", "coco:12", "coco:2", "coco:20", "coco:21",
                                              "coco:3", "nlvr2:10", "nlvr2:40"}));
  EXPECT_EQ(r.datasets[vqa].trainval.size(), 4u);
  EXPECT_EQ(r.datasets[vqa].cleaned, 2u);  // {1, 4}
  EXPECT_DOUBLE_EQ(r.datasets[vqa].removed_percent(), 50.0);
  EXPECT_EQ(r.datasets[refcoco].cleaned, 1u);  // {1}
  EXPECT_EQ(r.datasets[nlvr2].cleaned, 4u);
  EXPECT_DOUBLE_EQ(r.datasets[nlvr2].removed_percent(), 0.0);

  const auto json = nlohmann::json::parse(clean_split_json(r));
  EXPECT_EQ(json["removed_image_ids"]["coco"].size(), 7u);
  EXPECT_EQ(json["removed_image_ids"]["nlvr2"], nlohmann::json({"10", "40"}));
  EXPECT_EQ(json["per_dataset"]["refcoco"]["clean_trainval_images"], 1);
  EXPECT_EQ(json["per_dataset"]["vqa"]["test_images"], 3);

  const std::string md = clean_split_markdown(r);
  EXPECT_NE(md.find("| [A] VQA2.0 | 0% | - | - | - | - | 33% | - | - | - | - | - | 0% |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| [F] RefCOCO | 2 | 4 | 1 | 50.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| Average | - | - | - | 33.33 |"), std::string::npos) << md;
}

// A COCO test image inside a Visual Genome task is found through VG's coco_id; VG ids are their
// own namespace otherwise; GQA images are VG images.
TEST(CleanSplit, VisualGenomeImagesAreMatchedToCoco) {
  TempDir dir("cleanvg");
  build_root(dir.path());
  const fs::path a = dir.path() / "annotations";
  write_lines(a / "vgqa/train.jsonl", {item("700"), item("701"), item("2")});
  write_lines(a / "vgqa/val.jsonl", {item("702")});
  write_lines(a / "gqa/train.jsonl", {item("701"), item("703")});
  write_lines(a / "gqa/test-dev.jsonl", {item("799")});  // GQA's released test split
  write_lines(dir.path() / "image_data.json",
              {R"([{"image_id": 700, "coco_id": 20}, {"image_id": 701, "coco_id": null}, {"image_id": 703, "coco_id": 3}])"});
  const VgCocoIds vg = read_vg_coco_ids((dir.path() / "image_data.json").string());
  EXPECT_EQ(vg, (VgCocoIds{{"700", "20"}, {"703", "3"}}));
  EXPECT_EQ(qualified_image_id("vg", "700", vg), "coco:20");
  EXPECT_EQ(qualified_image_id(builtin_task("gqa").id_namespace(), "701", vg), "vg:701");
  EXPECT_EQ(qualified_image_id("coco", "700", vg), "coco:700");
  const auto r = compute_clean_split(dir.path().string(), vg);
  const std::size_t vgqa = 1, refcoco = 5;
  ASSERT_EQ(r.datasets[vgqa].key, "vgqa");
  // refcoco's test images 20 and 3 are VG 700 and 703: vgqa keeps 701, 702 and its own "2".
  EXPECT_EQ(r.datasets[vgqa].cleaned, 3u);
  EXPECT_DOUBLE_EQ(r.overlap_percent(refcoco, vgqa), 25.0);
  EXPECT_EQ(r.removed_by_source.at("vg"), (std::set<std::string>{"700", "703", "799"}));
  EXPECT_EQ(r.removed_by_source.at("gqa"), (std::set<std::string>{"700", "703", "799"}));
  EXPECT_EQ(r.removed_by_source.at("coco").count("2"), 1u);
  EXPECT_THROW(read_vg_coco_ids((dir.path() / "missing.json").string()), DataError);
}

TEST(CleanSplit, MalformedLineNamesFileAndLine) {
  TempDir dir("cleanbad");
  build_root(dir.path());
  const fs::path bad = dir.path() / "annotations/refcoco/test.jsonl";
  write_lines(bad, {item("2"), "{\"image_id\": \"3\"", item("4")});
  try {
    compute_clean_split(dir.path().string());
    FAIL() << "malformed line accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string() + ":2"), std::string::npos) << e.what();
  }
  write_lines(bad, {R"({"ref_id": "r"})"});
  EXPECT_THROW(compute_clean_split(dir.path().string()), DataError);
}

// Every test split the task has as released must be there: a missing one would leave its images
// in the training data without a word.
TEST(CleanSplit, AMissingDeclaredTestSplitFailsNamingIt) {
  TempDir dir("cleanmissing");
  build_root(dir.path());
  const fs::path testB = dir.path() / "annotations/refcoco/testB.jsonl";
  fs::remove(testB);
  try {
    compute_clean_split(dir.path().string());
    FAIL() << "a missing testB was skipped";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(testB.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("testA, testB, test"), std::string::npos) << e.what();
  }
}

// Only testB holds image 22; any further test* file (a 5K test set) counts as a test split too.
TEST(CleanSplit, EveryTestSplitFileRemovesItsImages) {
  TempDir dir("cleanprotocols");
  build_root(dir.path());
  write_lines(dir.path() / "annotations/refcoco/testB.jsonl", {item("20"), item("21"), item("22")});
  write_lines(dir.path() / "annotations/vqa/test5k.jsonl", {item("50")});
  const auto r = compute_clean_split(dir.path().string());
  EXPECT_EQ(r.removed.count("coco:22"), 1u);
  EXPECT_EQ(r.removed.count("coco:50"), 1u);
}

}  // namespace
}  // namespace vlmt

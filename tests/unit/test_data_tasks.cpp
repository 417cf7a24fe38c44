#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/annotations.h"
#include "data/task_datasets.h"
#include "tasks/task_data.h"
#include "test_data_root.h"

using namespace vlmt;
using fixture::TestRoot;

namespace {
const TestRoot& shared_root() {
  static TestRoot root = fixture::make_test_root("tasks");
  return root;
}

Batch load(const std::string& task, std::vector<int64_t> items, uint64_t seed = 1, int max_regions = 8) {
  const TestRoot& root = shared_root();
  auto ds = make_task_dataset(builtin_task(task), "train", root.data_config(), fixture::small_hyper(12, max_regions),
                              TestRoot::model_config());
  RngDraws rng(seed);
  return ds->get_batch(items, rng);
}

void expect_inputs(const Batch& b, int64_t rows, int64_t L, int64_t R) {
  EXPECT_EQ(b.rows(), rows);
  EXPECT_EQ(b.input_ids.sizes(), (std::vector<int64_t>{rows, L}));
  EXPECT_EQ(b.segment_ids.sizes(), (std::vector<int64_t>{rows, L}));
  EXPECT_EQ(b.text_mask.sizes(), (std::vector<int64_t>{rows, L}));
  EXPECT_EQ(b.features.sizes(), (std::vector<int64_t>{rows, R, fixture::kDim}));
  EXPECT_EQ(b.spatials.sizes(), (std::vector<int64_t>{rows, R, 5}));
  EXPECT_EQ(b.image_mask.sizes(), (std::vector<int64_t>{rows, R}));
  EXPECT_EQ(static_cast<int64_t>(b.image_ids.size()), rows);
  EXPECT_EQ(static_cast<int64_t>(b.item_ids.size()), b.size);
  EXPECT_TRUE(torch::all(b.input_ids.select(1, 0) == 2).item<bool>());  // [CLS]
}

// Features of detected region k (0-based) of a test image sit in slot k + 1.
bool row_shows_image(const Batch& b, int64_t row, const fixture::TestImage& im) {
  return torch::allclose(b.features[row][1], im.features[0].to(torch::kHalf).to(torch::kFloat), 1e-3, 1e-3);
}
}  // namespace

TEST(TaskDataset, VqaSoftScores) {
  Batch b = load("vqa", {0, 1, 2});
  expect_inputs(b, 3, 12, 8);
  EXPECT_EQ(b.task, "vqa");
  EXPECT_EQ(b.task_id, 1);
  EXPECT_EQ(b.target.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_FLOAT_EQ(b.target[0][3].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(b.target[0][0].item<float>(), 0.3f);
  EXPECT_FLOAT_EQ(b.target[0].sum().item<float>(), 1.3f);
  EXPECT_FLOAT_EQ(b.target[1][1].item<float>(), 0.6f);
  EXPECT_FLOAT_EQ(b.target[2].sum().item<float>(), 0.0f);  // no labels
  EXPECT_EQ(b.item_ids, (std::vector<std::string>{"q1", "q2", "q3"}));
  // "What color is the dog?" → [CLS] what color is the dog ? [SEP]
  EXPECT_TRUE(torch::equal(b.input_ids[0].narrow(0, 0, 8), torch::tensor({2, 5, 6, 7, 8, 9, 18, 3}, torch::kInt64)));
  EXPECT_EQ(b.text_mask[0].sum().item<int64_t>(), 8);
  EXPECT_EQ(b.image_mask[0].sum().item<int64_t>(), 6);  // IMG + 5 regions
  const auto& im = shared_root().image("coco", "1");
  EXPECT_TRUE(torch::allclose(b.features[0][0], im.features.mean(0)));
  EXPECT_TRUE(torch::equal(b.features[0][1], im.features[0]));

  Batch g = load("gqa", {0});
  EXPECT_EQ(g.target.sizes(), (std::vector<int64_t>{1, 6}));
  EXPECT_FLOAT_EQ(g.target[0][2].item<float>(), 1.0f);
  Batch v = load("vgqa", {0});
  EXPECT_TRUE(row_shows_image(v, 0, shared_root().image("vg", "v1")));  // vg.h5 is float16
}

// A label is a position in answers.json: the vocabulary keeps the file's order, or every
// evaluated and inferred answer (label → string) and every released head would be wrong.
TEST(TaskDataset, VqaAnswersKeepTheFileOrder) {
  auto ds = make_task_dataset(builtin_task("vqa"), "train", shared_root().data_config(), fixture::small_hyper(), TestRoot::model_config());
  const auto& vqa = dynamic_cast<const VqaDataset&>(*ds);
  EXPECT_EQ(vqa.answers(), (std::vector<std::string>{"yes", "no", "two", "red"}));
  EXPECT_EQ(vqa.answers().at(3), "red");  // q1's label 3, answered "red" by its humans
}

TEST(TaskDataset, VqaAnswerVocabularyLargerThanHeadIsAnError) {
  ModelConfig m = TestRoot::model_config();
  m.num_vqa_answers = 3;
  EXPECT_THROW(make_task_dataset(builtin_task("vqa"), "train", shared_root().data_config(), fixture::small_hyper(), m), DataError);
}

// retreival_dataset.py's 4 options, positive first: (image, caption), (image, another image's
// caption), (another image, caption), (image, a caption of an image from its hard pool).
TEST(TaskDataset, RetrievalFourWay) {
  const std::vector<std::string> own{"1", "2", "3", "4", "5", "6"};
  const std::vector<std::string> caption{"a dog on the left", "a red cat", "two men",
                                         "a blue photo", "one dog", "the cat"};
  const auto vocab = WordPiece::from_tokens(fixture::test_vocab_tokens());
  auto text_of = [&](const std::string& c) { return torch::tensor(vocab.encode_framed(c, 12).ids, torch::kInt64); };
  auto caption_index = [&](const Batch& b, int64_t row) {
    for (size_t c = 0; c < caption.size(); ++c)
      if (torch::equal(b.input_ids[row], text_of(caption[c]))) return static_cast<int64_t>(c);
    return int64_t{-1};
  };
  std::set<std::string> hard_captions_of_item0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Batch b = load("retrieval_coco", {0, 1, 2, 3, 4, 5}, seed);
    expect_inputs(b, 24, 12, 8);
    EXPECT_EQ(b.rows_per_item, 4);
    EXPECT_TRUE(torch::equal(b.target, torch::zeros({6}, torch::kInt64)));
    for (int64_t k = 0; k < 6; ++k) {
      const int64_t row = k * 4;
      for (int o = 0; o < 4; ++o)
        EXPECT_TRUE(row_shows_image(b, row + o, shared_root().image("coco", b.image_ids[row + o])));
      EXPECT_EQ(b.image_ids[row], own[k]);
      EXPECT_EQ(caption_index(b, row), k);
      EXPECT_EQ(b.image_ids[row + 1], own[k]);
      EXPECT_NE(caption_index(b, row + 1), k);
      EXPECT_GE(caption_index(b, row + 1), 0);
      EXPECT_NE(b.image_ids[row + 2], own[k]);
      EXPECT_EQ(caption_index(b, row + 2), k);
      EXPECT_EQ(b.image_ids[row + 3], own[k]);
      EXPECT_NE(caption_index(b, row + 3), k);
      if (k == 0) hard_captions_of_item0.insert(own[caption_index(b, row + 3)]);
    }
  }
  // Item 0's 4th option comes from its pool only (images 4, 5, 6), and all of it is drawn.
  EXPECT_EQ(hard_captions_of_item0, (std::set<std::string>{"4", "5", "6"}));
  // Same rng seed → same batch.
  Batch b = load("retrieval_coco", {0, 1, 2, 3, 4, 5}, 7), again = load("retrieval_coco", {0, 1, 2, 3, 4, 5}, 7);
  EXPECT_TRUE(torch::equal(again.input_ids, b.input_ids));
  EXPECT_EQ(again.image_ids, b.image_ids);
}

TEST(TaskDataset, RetrievalEvaluationBuildsCaptionAndImageRowsApart) {
  const TestRoot& root = shared_root();
  auto ds = make_task_dataset(builtin_task("retrieval_coco"), "train", root.data_config(), fixture::small_hyper(),
                              TestRoot::model_config());
  auto* scoring = dynamic_cast<RetrievalScoring*>(ds.get());
  ASSERT_NE(scoring, nullptr);
  EXPECT_EQ(scoring->split_images().size(), 6u);
  Batch captions = scoring->caption_rows({0, 2});
  EXPECT_EQ(captions.size, 2);
  EXPECT_EQ(captions.rows(), 2);
  EXPECT_EQ(captions.item_ids, (std::vector<std::string>{ds->item_id(0), ds->item_id(2)}));
  EXPECT_EQ(captions.image_ids, (std::vector<std::string>{ds->item_images(0)[0], ds->item_images(2)[0]}));
  EXPECT_FALSE(captions.features.defined());
  const std::vector<std::string> images = {"2", "3", "1"};
  Batch regions = scoring->image_rows(images);
  EXPECT_EQ(regions.rows(), 3);
  EXPECT_EQ(regions.image_ids, images);
  EXPECT_FALSE(regions.input_ids.defined());
  // Each side equals the corresponding side of the training batch that pairs the same caption
  // and image (row 0 of an item = its own image with its own caption).
  RngDraws rng(1);
  for (int64_t k = 0; k < 2; ++k) {
    const int64_t caption = k == 0 ? 0 : 2;
    Batch train = ds->get_batch({caption}, rng);
    EXPECT_TRUE(captions.input_ids[k].equal(train.input_ids[0]));
    EXPECT_TRUE(captions.text_mask[k].equal(train.text_mask[0]));
    const auto at = std::find(images.begin(), images.end(), train.image_ids[0]) - images.begin();
    if (at < 3) {
      EXPECT_TRUE(regions.features[at].equal(train.features[0]));
      EXPECT_TRUE(regions.spatials[at].equal(train.spatials[0]));
      EXPECT_TRUE(regions.image_mask[at].equal(train.image_mask[0]));
    }
  }
}

// refer_expression_dataset.py (training): detections, then the image's ground-truth boxes up to
// max_regions; every slot, the IMG one (box = whole image) included, gets its IoU with the
// referred box, zeroed below 0.5.
TEST(TaskDataset, ReferringTargetsAreIoUWithGroundTruth) {
  for (const char* task : {"refcoco", "refcoco+", "refcocog"}) {
    Batch b = load(task, {0, 1});
    expect_inputs(b, 2, 12, 8);
    EXPECT_EQ(b.target.sizes(), (std::vector<int64_t>{2, 8}));
    const auto& image = shared_root().image("coco", "1");
    const auto& gt = shared_root().image("coco_gt", "1");
    const auto ref = image.boxes[2];
    auto thresholded = [&](const torch::Tensor& box) {
      const float iou = box_iou(box.unsqueeze(0), ref).item<float>();
      return iou < 0.5f ? 0.f : iou;
    };
    const auto whole = torch::tensor({0.f, 0.f, static_cast<float>(image.w), static_cast<float>(image.h)});
    EXPECT_NEAR(b.target[0][0].item<float>(), thresholded(whole), 1e-6);  // IMG slot
    EXPECT_FLOAT_EQ(b.target[0][3].item<float>(), 1.f);  // region 2 is the referred box
    for (int64_t k = 0; k < 5; ++k) EXPECT_NEAR(b.target[0][k + 1].item<float>(), thresholded(image.boxes[k]), 1e-6);
    // IMG + 5 detections leave 2 of the 8 slots: the first 2 of the image's 3 ground-truth boxes.
    EXPECT_EQ(b.image_mask[0].sum().item<int64_t>(), 8);
    for (int64_t g = 0; g < 2; ++g) {
      EXPECT_TRUE(torch::allclose(b.features[0][6 + g], gt.features[g].to(torch::kHalf).to(torch::kFloat), 1e-3, 1e-3));
      EXPECT_NEAR(b.target[0][6 + g].item<float>(), thresholded(gt.boxes[g]), 1e-6);
    }
  }
}

// The training threshold is 0.5 exactly: a referred box that overlaps a detection at IoU 0.45
// (inside it, 45 % of its area with the released +1-pixel sizes) leaves that region's target 0.
TEST(TaskDataset, ReferringTargetBelowHalfIoUIsZero) {
  TestRoot root = fixture::make_test_root("referring_iou_band");
  const auto box = root.image("coco", "1").boxes[2];  // detection 2: slot 3 (after IMG)
  const float x1 = box[0].item<float>(), y1 = box[1].item<float>(), x2 = box[2].item<float>(), y2 = box[3].item<float>();
  const float inner_x2 = x1 + std::round(0.45f * (x2 - x1 + 1)) - 1;
  const std::vector<double> referred = {x1, y1, inner_x2, y2};
  fixture::write_lines(root.dir / "annotations" / "refcoco" / "train.jsonl",
                       {nlohmann::json{{"ref_id", "r1"}, {"image_id", "1"}, {"expression", "dog"}, {"box", referred}}.dump()});
  const float iou = box_iou(box.unsqueeze(0), torch::tensor({x1, y1, inner_x2, y2})).item<float>();
  ASSERT_GE(iou, 0.4f);
  ASSERT_LT(iou, 0.5f);
  auto ds = make_task_dataset(builtin_task("refcoco"), "train", root.data_config(), fixture::small_hyper(12, 8), TestRoot::model_config());
  RngDraws rng(1);
  EXPECT_EQ(ds->get_batch({0}, rng).target[0][3].item<float>(), 0.f) << "IoU " << iou;
}

TEST(TaskDataset, ReferringOnDetectionsOnlyWhenSwitchedOff) {
  TrainConfig train;
  train.referring_gt_regions = false;
  auto ds = make_task_dataset(builtin_task("refcoco"), "train", shared_root().data_config(), fixture::small_hyper(12, 8),
                              TestRoot::model_config(), train);
  RngDraws rng(1);
  Batch b = ds->get_batch({0}, rng);
  EXPECT_EQ(b.image_mask[0].sum().item<int64_t>(), 6);  // IMG + 5 detections, 2 padding slots
  EXPECT_FLOAT_EQ(b.target[0][6].item<float>(), 0.f);
  EXPECT_FLOAT_EQ(b.target[0][7].item<float>(), 0.f);
  EXPECT_FLOAT_EQ(b.target[0][3].item<float>(), 1.f);
}

// visual7w_pointing_dataset.py / guesswhat_pointing_dataset.py: every ground-truth box of the
// image follows the detections (in the file's order); each candidate points at its row and its
// target is its IoU with the answer box, 0 below 0.5.
TEST(TaskDataset, PointingAppendsEveryGroundTruthBoxAndScoresCandidatesByIoU) {
  Batch b = load("visual7w", {0});
  expect_inputs(b, 1, 12, 8);
  const auto& gt = shared_root().image("vg_gt", "v2");  // 4 gt boxes; the candidates are rows 3, 2, 1, 0
  EXPECT_EQ(b.choice_ids.sizes(), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(b.target.sizes(), (std::vector<int64_t>{1, 4}));
  // IMG + 3 detections leave slots 4..7 to the image's 4 gt rows; candidate c is row 3 − c.
  EXPECT_TRUE(torch::equal(b.choice_ids[0], torch::tensor({7, 6, 5, 4}, torch::kInt64)));
  EXPECT_EQ(b.image_mask[0].sum().item<int64_t>(), 8);
  for (int64_t r = 0; r < 4; ++r) {
    EXPECT_TRUE(torch::equal(b.features[0][4 + r], gt.features[r])) << "gt row " << r;
  }
  const auto iou = box_iou(gt.boxes.index_select(0, torch::tensor({3, 2, 1, 0}, torch::kInt64)), gt.boxes[2]);
  EXPECT_TRUE(torch::allclose(b.target[0], torch::where(iou < 0.5, torch::zeros_like(iou), iou)));
  EXPECT_FLOAT_EQ(b.target[0][1].item<float>(), 1.f);  // the answer
  Batch g = load("guesswhat", {0});
  EXPECT_FLOAT_EQ(g.target[0][2].item<float>(), 1.f);
  EXPECT_TRUE(torch::equal(g.features[0][g.choice_ids[0][0].item<int64_t>()], shared_root().image("coco_gt", "3").features[2]));
}

TEST(TaskDataset, PointingCandidateWithoutGtRowIsAnError) {
  TestRoot root = fixture::make_test_root("pointing_bad");
  fixture::write_lines(root.dir / "annotations" / "visual7w" / "train.jsonl",
                       {R"({"id": "p9", "image_id": "v1", "text": "dog", "candidates": [[1, 2, 3, 4]], "answer": 0})"});
  auto ds = make_task_dataset(builtin_task("visual7w"), "train", root.data_config(), fixture::small_hyper(), TestRoot::model_config());
  RngDraws rng(1);
  try {
    ds->get_batch({0}, rng);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("v1"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("vg_gt.h5"), std::string::npos);
  }
}

TEST(TaskDataset, Nlvr2TwoImagesPerItem) {
  Batch b = load("nlvr2", {0, 1});
  expect_inputs(b, 4, 12, 8);
  EXPECT_EQ(b.rows_per_item, 2);
  EXPECT_EQ(b.image_ids, (std::vector<std::string>{"n1", "n2", "n3", "n4"}));
  EXPECT_TRUE(torch::equal(b.target, torch::tensor({{0.f, 1.f}, {1.f, 0.f}})));
  EXPECT_TRUE(torch::equal(b.input_ids[0], b.input_ids[1]));
  EXPECT_TRUE(row_shows_image(b, 3, shared_root().image("nlvr2", "n4")));
}

TEST(TaskDataset, SnliVeOneHot) {
  Batch b = load("snli_ve", {1, 0});
  expect_inputs(b, 2, 12, 8);
  // The released class order: contradiction 0, neutral 1, entailment 2.
  EXPECT_TRUE(torch::equal(b.target, torch::tensor({{1.f, 0.f, 0.f}, {0.f, 1.f, 0.f}})));
  EXPECT_EQ(b.item_ids, (std::vector<std::string>{"s2", "s1"}));
}

TEST(TaskDataset, CleanSplitDropsRemovedImages) {
  TestRoot root = fixture::make_test_root("clean");
  fixture::write_lines(root.dir / "splits" / "clean_split.json", {R"({"removed_image_ids": ["1", "3"]})"});
  auto ds = make_task_dataset(builtin_task("vqa"), "train", root.data_config(), fixture::small_hyper(), TestRoot::model_config());
  ASSERT_EQ(ds->size(), 1);
  EXPECT_EQ(ds->item_id(0), "q2");
  DataConfig off = root.data_config();
  off.clean_split = false;
  EXPECT_EQ(make_task_dataset(builtin_task("vqa"), "train", off, fixture::small_hyper(), TestRoot::model_config())->size(), 3);
}

TEST(TaskDataset, MissingImageAndWrongDimensionAreErrors) {
  TestRoot root = fixture::make_test_root("missing_image");
  fixture::write_lines(root.dir / "annotations" / "snli_ve" / "train.jsonl",
                       {R"({"pair_id": "x", "image_id": "f99", "hypothesis": "a", "label": "neutral"})"});
  try {
    make_task_dataset(builtin_task("snli_ve"), "train", root.data_config(), fixture::small_hyper(), TestRoot::model_config());
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("f99"), std::string::npos);
  }
  ModelConfig m = TestRoot::model_config();
  m.v_feature_size = 2048;
  EXPECT_THROW(make_task_dataset(builtin_task("vqa"), "train", root.data_config(), fixture::small_hyper(), m), DataError);
  EXPECT_THROW(make_task_dataset(builtin_task("vqa"), "nosuchsplit", root.data_config(), fixture::small_hyper(),
                                 TestRoot::model_config()), DataError);
  EXPECT_THROW(make_task_dataset(builtin_task("nosuchtask"), "train", root.data_config(), fixture::small_hyper(),
                                 TestRoot::model_config()), ConfigError);
}

TEST(Annotations, BadLineNamesFileLineAndField) {
  auto dir = fixture::fresh_dir("annotations");
  const auto path = (dir / "train.jsonl").string();
  fixture::write_lines(dir / "train.jsonl", {R"({"ref_id": "a", "image_id": "1", "expression": "x", "box": [0, 0, 1, 1]})",
                                              "", R"({"ref_id": "b", "image_id": "1", "box": [0, 0, 1, 1]})"});
  try {
    read_referring_jsonl(path);
    FAIL();
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path + ":3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expression"), std::string::npos) << msg;
  }
  fixture::write_lines(dir / "train.jsonl", {R"({"pair_id": "p", "image_id": 5, "hypothesis": "h", "label": "maybe"})"});
  try {
    read_snli_ve_jsonl(path);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("label"), std::string::npos);
  }
  fixture::write_lines(dir / "train.jsonl", {R"({"pair_id": "p", "image_id": 5, "hypothesis": "h"})", "{not json"});
  EXPECT_THROW(read_snli_ve_jsonl(path), DataError);
  fixture::write_lines(dir / "train.jsonl", {R"({"pair_id": "p", "image_id": 5, "hypothesis": "h"})"});
  auto recs = read_snli_ve_jsonl(path);
  EXPECT_EQ(recs.at(0).image_id, "5");  // integer ids become decimal strings
  EXPECT_EQ(recs.at(0).label, -1);
}

// The synthetic world: determinism, every dataset file in its canonical schema, Table 8
// proportions, vocabulary limits and feature files consistent with the annotations.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "catalog/task_catalog.h"
#include "core/error.h"
#include "data/clean_split.h"
#include "synth/synth_scene.h"
#include "synth/synth_text.h"
#include "synth/synth_world.h"
#include "test_synth_util.h"

namespace vlmt {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;

constexpr double kScale = 0.0005;

std::vector<json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << p;
  std::vector<json> items;
  std::string line;
  while (std::getline(in, line)) items.push_back(json::parse(line));
  return items;
}

// One world for the whole suite (generation is the expensive part).
class SynthWorldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("world");
    SynthWorldOptions o;
    o.out_dir = dir_->path().string();
    o.scale = kScale;
    o.seed = 7;
    write_synth_world(o);
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path root() { return dir_->path(); }
  static TempDir* dir_;
};
TempDir* SynthWorldTest::dir_ = nullptr;

std::vector<std::string> split_files(const std::string& task) {
  return {"train", builtin_task(task).released.val_split, "test"};
}

TEST_F(SynthWorldTest, SameSeedGivesIdenticalFilesOtherSeedDoesNot) {
  TempDir again("world2"), other("world3");
  SynthWorldOptions o;
  o.out_dir = again.path().string();
  o.scale = kScale;
  o.seed = 7;
  write_synth_world(o);
  o.out_dir = other.path().string();
  o.seed = 8;
  write_synth_world(o);
  int compared = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root())) {
    if (!entry.is_regular_file()) continue;
    const auto rel = fs::relative(entry.path(), root());
    const auto ext = rel.extension().string();
    if (ext == ".jsonl" || ext == ".json" || ext == ".txt") {
      EXPECT_EQ(testing::slurp(entry.path()), testing::slurp(again.path() / rel)) << rel;
      ++compared;
    } else if (ext == ".h5") {
      H5::H5File a(entry.path().string(), H5F_ACC_RDONLY), b((again.path() / rel).string(), H5F_ACC_RDONLY);
      EXPECT_EQ(testing::read_ids(a), testing::read_ids(b)) << rel;
      EXPECT_EQ(testing::read_floats(a, "features"), testing::read_floats(b, "features")) << rel;
      EXPECT_EQ(testing::read_floats(a, "boxes"), testing::read_floats(b, "boxes")) << rel;
      ++compared;
    }
  }
  EXPECT_GT(compared, 40);
  EXPECT_NE(testing::slurp(root() / "annotations/vqa/train.jsonl"),
            testing::slurp(other.path() / "annotations/vqa/train.jsonl"));
}

TEST_F(SynthWorldTest, EveryDatasetFileHasItsSchema) {
  const std::map<std::string, std::vector<std::string>> fields = {
      {"vqa", {"question_id", "image_id", "question", "answers", "labels", "scores"}},
      {"vgqa", {"question_id", "image_id", "question", "answers", "labels", "scores"}},
      {"gqa", {"question_id", "image_id", "question", "answers", "labels", "scores"}},
      {"retrieval_coco", {"caption_id", "image_id", "caption"}},
      {"retrieval_flickr30k", {"caption_id", "image_id", "caption"}},
      {"refcoco", {"ref_id", "image_id", "expression", "box"}},
      {"refcoco+", {"ref_id", "image_id", "expression", "box"}},
      {"refcocog", {"ref_id", "image_id", "expression", "box"}},
      {"visual7w", {"id", "image_id", "text", "candidates", "answer"}},
      {"guesswhat", {"id", "image_id", "text", "candidates", "answer"}},
      {"nlvr2", {"pair_id", "image_ids", "sentence", "label"}},
      {"snli_ve", {"pair_id", "image_id", "hypothesis", "label"}}};
  ASSERT_EQ(fields.size(), TaskCatalog::builtin().datasets().size());
  for (const auto& [task, keys] : fields) {
    for (const auto& split : split_files(task)) {
      const auto items = read_jsonl(root() / "annotations" / task / (split + ".jsonl"));
      EXPECT_GE(items.size(), split == "train" ? 32u : static_cast<std::size_t>(kSynthMinHeldOut)) << task << "/" << split;
      std::set<std::string> item_ids;
      for (const auto& item : items) {
        for (const auto& k : keys) ASSERT_TRUE(item.contains(k)) << task << "/" << split << " lacks " << k;
        item_ids.insert(item[keys[0]].get<std::string>());
      }
      EXPECT_EQ(item_ids.size(), items.size()) << task << " ids are unique";
    }
  }
  // Retrieval's hard-negative pools: one line per training image, its most similar other
  // training images first.
  for (const std::string task : {"retrieval_coco", "retrieval_flickr30k"}) {
    std::set<std::string> train_images;
    for (const auto& item : read_jsonl(root() / "annotations" / task / "train.jsonl"))
      train_images.insert(item["image_id"].get<std::string>());
    std::set<std::string> pooled;
    for (const auto& line : read_jsonl(root() / "annotations" / task / "train_hard_pool.jsonl")) {
      const std::string id = line["image_id"];
      pooled.insert(id);
      ASSERT_FALSE(line["pool"].empty());
      EXPECT_LE(line["pool"].size(), 99u);
      for (const auto& other : line["pool"]) EXPECT_NE(other.get<std::string>(), id);
    }
    for (const auto& id : train_images) EXPECT_TRUE(pooled.count(id)) << task << ": no pool for " << id;
  }
  for (const auto& split : {"train", "val"}) {
    const auto items = read_jsonl(root() / "annotations/pretrain" / (std::string(split) + ".jsonl"));
    ASSERT_FALSE(items.empty());
    EXPECT_TRUE(items[0].contains("image_id") && items[0].contains("caption"));
  }
}

TEST_F(SynthWorldTest, AnswersAndLabelsAreConsistent) {
  for (const std::string task : {"vqa", "vgqa", "gqa"}) {
    const auto answers = json::parse(testing::slurp(root() / "annotations" / task / "answers.json"))["answers"];
    ASSERT_LE(answers.size(), 64u);
    int noisy = 0;
    for (const auto& item : read_jsonl(root() / "annotations" / task / "train.jsonl")) {
      ASSERT_EQ(item["labels"].size(), item["scores"].size());
      EXPECT_EQ(item["answers"].size(), task == "vqa" ? 10u : 1u);
      for (std::size_t k = 0; k < item["labels"].size(); ++k) {
        const int label = item["labels"][k];
        ASSERT_LT(label, static_cast<int>(answers.size()));
        int votes = 0;
        for (const auto& a : item["answers"]) votes += a == answers[label];
        EXPECT_DOUBLE_EQ(item["scores"][k].get<double>(),
                         task == "vqa" ? std::min(1.0, votes / 3.0) : 1.0);
      }
      noisy += item["labels"].size() > 1;
    }
    if (task == "vqa") {
      EXPECT_GT(noisy, 0) << "VQA answers carry annotator noise";
    }
  }
  std::map<std::string, int> snli;
  for (const auto& item : read_jsonl(root() / "annotations/snli_ve/train.jsonl")) ++snli[item["label"]];
  EXPECT_EQ(snli.size(), 3u);
  int nlvr_true = 0, nlvr_n = 0;
  for (const auto& item : read_jsonl(root() / "annotations/nlvr2/train.jsonl")) {
    nlvr_true += item["label"].get<bool>(), ++nlvr_n;
    EXPECT_EQ(item["image_ids"].size(), 2u);
  }
  EXPECT_GT(nlvr_true, nlvr_n / 5);
  EXPECT_LT(nlvr_true, nlvr_n * 4 / 5);
}

TEST_F(SynthWorldTest, TrainSizesFollowTable8) {
  const std::map<std::string, double> paper = {
      {"vqa", 542}, {"vgqa", 1294}, {"gqa", 963}, {"retrieval_coco", 488},
      {"retrieval_flickr30k", 140}, {"refcoco", 96}, {"refcoco+", 96}, {"refcocog", 66},
      {"visual7w", 94}, {"guesswhat", 100}, {"nlvr2", 86}, {"snli_ve", 512}};
  for (const auto& [task, k] : paper) {
    const auto n = read_jsonl(root() / "annotations" / task / "train.jsonl").size();
    const double expected = std::max(32.0, k * 1000 * kScale);
    EXPECT_NEAR(static_cast<double>(n), expected, 1.0) << task;
  }
}

// --held-out sets the least size of the val and test splits (the learning test uses 512), and
// leaves the training splits alone.
TEST(SynthWorldSizes, HeldOutSetsTheLeastValAndTestSize) {
  for (const auto& plan : synth_task_plans()) {
    const auto base = synth_split_sizes(plan, 0.001);
    const auto large = synth_split_sizes(plan, 0.001, 512);
    EXPECT_EQ(large.train, base.train) << plan.key;
    EXPECT_EQ(large.val, std::max(512, base.train / 10)) << plan.key;
    EXPECT_EQ(large.test, plan.items.captions_corpus ? 0 : large.val) << plan.key;
    EXPECT_EQ(base.val, std::max(kSynthMinHeldOut, base.train / 10)) << plan.key;
  }
  SynthWorldOptions o;
  o.out_dir = (fs::temp_directory_path() / "vlmt_synth_held_out").string();
  o.min_held_out = 0;
  EXPECT_THROW(write_synth_world(o), ConfigError);
}

TEST_F(SynthWorldTest, VocabularyCoversEveryTextAndFitsTheTinyModel) {
  std::vector<std::string> vocab;
  {
    std::ifstream in(root() / "vocab.txt");
    for (std::string w; std::getline(in, w);) vocab.push_back(w);
  }
  ASSERT_GE(vocab.size(), 5u);
  EXPECT_LT(vocab.size(), 1024u);
  EXPECT_EQ(std::vector<std::string>(vocab.begin(), vocab.begin() + 5),
            (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));
  std::set<std::string> known(vocab.begin(), vocab.end());
  EXPECT_EQ(known.size(), vocab.size()) << "no duplicate entries";
  // Every word of every text, split on spaces and punctuation, is a vocabulary entry.
  for (const std::string field : {"question", "caption", "expression", "text", "sentence", "hypothesis"})
    for (const auto& entry : fs::recursive_directory_iterator(root() / "annotations"))
      if (entry.path().extension() == ".jsonl")
        for (const auto& item : read_jsonl(entry.path()))
          if (item.contains(field)) {
            std::string text = item[field];
            for (auto& ch : text)
              if (std::ispunct(static_cast<unsigned char>(ch))) ch = ' ';
            std::istringstream words(text);
            for (std::string w; words >> w;) ASSERT_TRUE(known.count(w)) << w << " in " << entry.path();
          }
}

TEST_F(SynthWorldTest, FeatureFilesHoldEveryAnnotatedImageAndCandidateBoxes) {
  std::map<std::string, std::set<std::string>> file_ids;
  for (const std::string source : {"coco", "vg", "gqa", "flickr30k", "nlvr2", "cc"}) {
    H5::H5File f((root() / "features" / (source + ".h5")).string(), H5F_ACC_RDONLY);
    const auto ids = testing::read_ids(f);
    file_ids[source] = std::set<std::string>(ids.begin(), ids.end());
    const auto offsets = testing::read_ints(f, "offsets");
    ASSERT_EQ(offsets.size(), ids.size() + 1);
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
      EXPECT_GE(offsets[i + 1] - offsets[i], 3);
      EXPECT_LE(offsets[i + 1] - offsets[i], 36);
    }
    EXPECT_EQ(testing::read_int_attr(f, "feature_dim"), 64);
    EXPECT_EQ(testing::read_floats(f, "cls_prob").size(), static_cast<std::size_t>(offsets.back()) * 64);
  }
  // VG shares images with COCO under the same id, GQA with VG.
  std::size_t shared = 0;
  for (const auto& id : file_ids["vg"]) shared += file_ids["coco"].count(id);
  EXPECT_GT(shared, 0u);
  for (const TaskSpec& task : TaskCatalog::builtin().datasets())
    for (const auto& split : split_files(task.key))
      for (const auto& item : read_jsonl(root() / "annotations" / task.key / (split + ".jsonl"))) {
        std::vector<std::string> ids;
        if (item.contains("image_ids")) ids = item["image_ids"].get<std::vector<std::string>>();
        else ids = {item["image_id"].get<std::string>()};
        for (const auto& id : ids) ASSERT_TRUE(file_ids[task.image_source].count(id)) << task.key << " " << id;
      }
  // Candidate boxes of Visual7W / GuessWhat are exact rows of the _gt.h5 file of their image.
  for (const std::string task : {"visual7w", "guesswhat"}) {
    const std::string source = builtin_task(task).image_source;
    H5::H5File f((root() / "features" / (source + "_gt.h5")).string(), H5F_ACC_RDONLY);
    const auto ids = testing::read_ids(f);
    const auto offsets = testing::read_ints(f, "offsets");
    const auto boxes = testing::read_floats(f, "boxes");
    for (const auto& item : read_jsonl(root() / "annotations" / task / "train.jsonl")) {
      const auto pos = std::find(ids.begin(), ids.end(), item["image_id"].get<std::string>()) - ids.begin();
      ASSERT_LT(pos, static_cast<long>(ids.size()));
      ASSERT_LT(item["answer"].get<int>(), static_cast<int>(item["candidates"].size()));
      for (const auto& cand : item["candidates"]) {
        bool found = false;
        for (long long r = offsets[pos]; r < offsets[pos + 1] && !found; ++r)
          found = boxes[4 * r] == cand[0].get<float>() && boxes[4 * r + 1] == cand[1].get<float>() &&
                  boxes[4 * r + 2] == cand[2].get<float>() && boxes[4 * r + 3] == cand[3].get<float>();
        EXPECT_TRUE(found) << task << " candidate of " << item["id"];
      }
    }
  }
}

TEST_F(SynthWorldTest, CleanSplitRemovesSharedTestImages) {
  const auto report = compute_clean_split(root().string());
  ASSERT_EQ(report.datasets.size(), 12u);
  std::size_t removed_from_trainval = 0;
  for (const auto& d : report.datasets) {
    EXPECT_TRUE(d.present) << d.key;
    EXPECT_FALSE(d.test.empty()) << d.key;
    removed_from_trainval += d.trainval.size() - d.cleaned;
  }
  EXPECT_GT(removed_from_trainval, 0u);
  // COCO retrieval's test images are all COCO images VQA trains on (paper Table 1, row D col A).
  EXPECT_DOUBLE_EQ(report.overlap_percent(3, 0), 100.0);
  // VQA's test images are its own (row A is 0 everywhere).
  for (std::size_t c = 0; c < 12; ++c) EXPECT_DOUBLE_EQ(report.overlap_percent(0, c), 0.0);
}

TEST(SynthRegions, ReleaseCountsFillAfterTheScenesOwnRegions) {
  const SynthFeatureSpace space(3, 16, 8);
  int lowest = 1000, highest = 0;
  for (int i = 0; i < 200; ++i) {
    const SynthScene scene = make_scene("img" + std::to_string(i), 3);
    const SynthRegions own = space.detect(scene, 3, 36), filled = space.detect(scene, 3, 100, 10);
    ASSERT_GE(filled.count, 10);
    ASSERT_LE(filled.count, 100);
    ASSERT_GE(filled.count, own.count);
    lowest = std::min(lowest, filled.count);
    highest = std::max(highest, filled.count);
    // The scene's own regions come first, unchanged; the fillers follow.
    ASSERT_TRUE(std::equal(own.features.begin(), own.features.end(), filled.features.begin()));
    ASSERT_TRUE(std::equal(own.boxes.begin(), own.boxes.end(), filled.boxes.begin()));
    EXPECT_EQ(filled.cls_prob.size(), static_cast<size_t>(filled.count) * 8);
  }
  EXPECT_LT(lowest, 30);   // the counts spread over the range
  EXPECT_GT(highest, 80);
  SynthWorldOptions o;
  o.out_dir = (fs::temp_directory_path() / "vlmt_synth_regions").string();
  o.min_regions = 50;
  o.max_regions = 40;
  EXPECT_THROW(write_synth_world(o), ConfigError);
}

}  // namespace
}  // namespace vlmt

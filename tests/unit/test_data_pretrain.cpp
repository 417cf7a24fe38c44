#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/error.h"
#include "tasks/task_data.h"
#include "test_data_root.h"

using namespace vlmt;
using fixture::TestRoot;

namespace {
const TestRoot& pretrain_root() {
  static TestRoot root = [] {
    TestRoot r = fixture::make_test_root("pretrain");
    // Image c1: regions 0 and 1 overlap heavily (IoU 0.9), the others are far apart.
    auto& im = r.sources["cc"][0];
    im.boxes = torch::tensor({{10.f, 10.f, 110.f, 110.f}, {10.f, 10.f, 100.f, 110.f}, {300.f, 300.f, 320.f, 320.f},
                              {400.f, 10.f, 420.f, 40.f}, {200.f, 200.f, 210.f, 260.f}, {500.f, 400.f, 600.f, 470.f}});
    fixture::write_feature_file((r.dir / "features" / "cc.h5").string(), r.sources["cc"]);
    return r;
  }();
  return root;
}

std::unique_ptr<TaskDataset> pretrain_dataset(const std::string& region_masking = "released") {
  TrainConfig train;
  train.region_masking = region_masking;
  return make_pretrain_dataset("train", pretrain_root().data_config(), train, TestRoot::model_config(), 12, 8);
}
}  // namespace

TEST(PretrainDataset, ShapesAndAlignment) {
  auto ds = pretrain_dataset();
  ASSERT_EQ(ds->size(), 24);
  std::vector<int64_t> all(24);
  std::iota(all.begin(), all.end(), 0);
  RngDraws rng(3);
  Batch b = ds->get_batch(all, rng);
  EXPECT_EQ(b.task, TaskCatalog::builtin().pretraining().key);  // pretraining is a task like the others
  EXPECT_EQ(b.task_id, 0);
  EXPECT_EQ(b.lm_labels.sizes(), (std::vector<int64_t>{24, 12}));
  EXPECT_EQ(b.region_targets.sizes(), (std::vector<int64_t>{24, 8, fixture::kClasses}));
  EXPECT_EQ(b.region_masked.sizes(), (std::vector<int64_t>{24, 8}));
  EXPECT_EQ(b.is_aligned.sizes(), (std::vector<int64_t>{24}));
  const int64_t aligned = b.is_aligned.sum().item<int64_t>();
  EXPECT_GT(aligned, 4);
  EXPECT_LT(aligned, 20);
  // Region targets = cls_prob of the kept regions; IMG row 0.
  const auto& c1 = pretrain_root().image("cc", "c1");
  EXPECT_TRUE(torch::allclose(b.region_targets[0].narrow(0, 1, 6), c1.cls_prob));
  EXPECT_EQ(b.region_targets[0][0].abs().sum().item<float>(), 0.f);
}

// The released rules (concept_cap_dataset.py, train_concap.py --objective 1): words and regions
// are corrupted on every pair; labels stay on aligned pairs only; 90% of the chosen regions are
// zeroed; a region overlapping a chosen one is not zeroed but leaves the IMG mean's count; the
// IMG feature = sum of the detected features after masking / (R − 1 − overlapping regions).
TEST(PretrainDataset, MaskingProperties) {
  auto ds = pretrain_dataset();
  const auto vocab = WordPiece::from_tokens(fixture::test_vocab_tokens());
  std::vector<int64_t> items(24);
  std::iota(items.begin(), items.end(), 0);
  int64_t masked_words = 0, maskable_words = 0, trained_regions = 0, zeroed_regions = 0, misaligned = 0,
          misaligned_corrupted = 0, c1_overlap_left_alone = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    RngDraws rng(seed);
    Batch b = ds->get_batch(items, rng);
    for (int64_t k = 0; k < b.size; ++k) {
      const int64_t len = b.text_mask[k].sum().item<int64_t>();
      if (b.is_aligned[k].item<int64_t>() == 0) {
        ++misaligned;
        EXPECT_TRUE(torch::all(b.lm_labels[k] == -1).item<bool>());
        EXPECT_EQ(b.region_masked[k].sum().item<int64_t>(), 0);
        misaligned_corrupted += b.input_ids[k].narrow(0, 0, len).eq(vocab.mask_id()).any().item<bool>();
        continue;
      }
      // Labels only where a word was masked, holding the original token.
      auto labels = b.lm_labels[k];
      maskable_words += len - 2;
      EXPECT_EQ(labels[0].item<int64_t>(), -1);
      EXPECT_EQ(labels[len - 1].item<int64_t>(), -1);
      for (int64_t pos = 0; pos < 12; ++pos) {
        const int64_t label = labels[pos].item<int64_t>();
        if (label < 0) continue;
        ++masked_words;
        EXPECT_TRUE(label != vocab.pad_id() && label != vocab.cls_id() && label != vocab.sep_id() &&
                    label < vocab.size());
      }
      // Trained regions: never the IMG region or padding; most of them zeroed.
      auto rm = b.region_masked[k];
      EXPECT_EQ(rm[0].item<int64_t>(), 0);
      EXPECT_EQ(rm[7].item<int64_t>(), 0);
      int64_t trained = 0;
      for (int64_t j = 1; j < 7; ++j)
        if (rm[j].item<int64_t>()) {
          ++trained;
          zeroed_regions += b.features[k][j].abs().sum().item<float>() == 0.f;
        }
      trained_regions += trained;
      // IMG = detected sum / (7 slots − n overlapping), n >= the trained count.
      const auto sum = b.features[k].narrow(0, 1, 7).sum(0);
      const double ratio = (sum.abs().sum() / b.features[k][0].abs().sum()).item<double>();
      const double overlapping = 7.0 - ratio;
      EXPECT_NEAR(overlapping, std::round(overlapping), 1e-3);
      EXPECT_GE(std::round(overlapping), trained);
      // c1's regions 0 and 1 (slots 1, 2) overlap with IoU 0.9 > 0.4: choosing one leaves the
      // other's features alone but takes both out of the IMG count.
      if (b.image_ids[k] == "c1" && trained == 1 && rm[1].item<int64_t>() + rm[2].item<int64_t>() == 1) {
        const int64_t other = rm[1].item<int64_t>() ? 2 : 1;
        EXPECT_GT(b.features[k][other].abs().sum().item<float>(), 0.f);
        EXPECT_NEAR(overlapping, 2.0, 1e-3);
        ++c1_overlap_left_alone;
      }
    }
  }
  EXPECT_GT(misaligned, 100);
  EXPECT_GT(misaligned_corrupted, 20);  // misaligned inputs are corrupted too
  const double word_rate = static_cast<double>(masked_words) / maskable_words;
  EXPECT_NEAR(word_rate, 0.15, 0.04);
  EXPECT_GT(trained_regions, 50);
  const double zeroed_share = static_cast<double>(zeroed_regions) / trained_regions;
  EXPECT_GT(zeroed_share, 0.75);
  EXPECT_LT(zeroed_share, 0.99);
  EXPECT_GT(c1_overlap_left_alone, 0);  // the overlap rule was exercised
}

// train.region_masking = "paper": chosen and overlapping regions are all zeroed and trained.
TEST(PretrainDataset, PaperOverlapMasking) {
  auto ds = pretrain_dataset("paper");
  std::vector<int64_t> items(24);
  std::iota(items.begin(), items.end(), 0);
  int64_t c1_pairs = 0, trained_regions = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    RngDraws rng(seed);
    Batch b = ds->get_batch(items, rng);
    for (int64_t k = 0; k < b.size; ++k) {
      auto rm = b.region_masked[k];
      for (int64_t j = 1; j < 7; ++j)
        if (rm[j].item<int64_t>()) {
          ++trained_regions;
          EXPECT_EQ(b.features[k][j].abs().sum().item<float>(), 0.f);
        }
      if (b.image_ids[k] == "c1" && b.is_aligned[k].item<int64_t>()) {
        EXPECT_EQ(rm[1].item<int64_t>(), rm[2].item<int64_t>());
        c1_pairs += rm[1].item<int64_t>();
      }
    }
  }
  EXPECT_GT(trained_regions, 50);
  EXPECT_GT(c1_pairs, 0);
}

TEST(PretrainDataset, UnmaskedTokensAreUnchanged) {
  auto ds = pretrain_dataset();
  RngDraws rng(5);
  std::vector<int64_t> items(24);
  std::iota(items.begin(), items.end(), 0);
  Batch b = ds->get_batch(items, rng);
  const auto vocab = WordPiece::from_tokens(fixture::test_vocab_tokens());
  const std::vector<std::string> words{"a red dog", "the blue cat", "two men sitting", "a photo of a man",
                                       "one dog on the left", "a cat on the right", "the red man", "a blue dog"};
  for (int64_t k = 0; k < 24; ++k) {
    if (!b.is_aligned[k].item<int64_t>()) continue;
    const int64_t i = k / 3, j = k % 3;  // record k = image i, caption (i + j) % 8
    auto original = vocab.encode_framed(words[(i + j) % 8], 12).ids;
    for (int64_t pos = 0; pos < 12; ++pos) {
      const int64_t label = b.lm_labels[k][pos].item<int64_t>();
      if (label >= 0) {
        EXPECT_EQ(label, original[pos]);
      } else {
        EXPECT_EQ(b.input_ids[k][pos].item<int64_t>(), original[pos]);
      }
    }
  }
}

TEST(PretrainDataset, NeedsClassProbabilities) {
  TrainConfig train;
  ModelConfig m = TestRoot::model_config();
  m.v_target_size = 1601;
  EXPECT_THROW(make_pretrain_dataset("train", pretrain_root().data_config(), train, m), DataError);
}

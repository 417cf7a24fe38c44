#include <gtest/gtest.h>

#include "core/error.h"
#include "train/memory_estimate.h"
#include "train/plan_options.h"
#include "train/trainer.h"

using namespace vlmt;

// The activation formula of train/memory_estimate.h, term by term, for a model small enough to
// add up by hand: text 3 tokens × width 8 (FFN 16, 2 heads), regions 2 × width 4 (FFN 8, 1 head),
// one layer each and one co-attention layer of width 4 (1 head); float32 (e = 4).
TEST(Plan, ActivationFormulaByHand) {
  ModelConfig m;
  m.hidden_size = 8, m.intermediate_size = 16, m.num_attention_heads = 2, m.num_hidden_layers = 1;
  m.v_hidden_size = 4, m.v_intermediate_size = 8, m.v_num_attention_heads = 1, m.v_num_hidden_layers = 1;
  m.bi_hidden_size = 4, m.bi_num_attention_heads = 1;
  m.v_biattention_id = {0};
  m.t_biattention_id = {0};
  const double embeddings = 9 * (3 * 8 + 2 * 4);                     // 288
  const double text_layer = 34 * 3 * 8 + 8 * 3 * 16 + 9 * 2 * 3 * 3;  // 1362
  const double image_layer = 34 * 2 * 4 + 8 * 2 * 8 + 9 * 1 * 2 * 2;  // 436
  const double co_text = 22 * 3 * 8 + 16 * 3 * 4 + 8 * 3 * 16;        // 1104
  const double co_image = 22 * 2 * 4 + 16 * 2 * 4 + 8 * 2 * 8;        // 432
  const double co_scores = 2 * 9 * 1 * 3 * 2;                         // 108
  const double per_row = embeddings + text_layer + image_layer + co_text + co_image + co_scores;
  EXPECT_DOUBLE_EQ(activation_bytes(m, 2, 3, 2, /*bf16=*/false), 2 * per_row);
  EXPECT_LT(activation_bytes(m, 2, 3, 2, /*bf16=*/true), 2 * per_row);
  EXPECT_DOUBLE_EQ(optimiser_state_bytes(1000), 16000.0);
}

TEST(Plan, ItemCountsAndRunLength) {
  const auto counts = parse_item_counts("vqa=443757,refcoco+=120624", TaskCatalog::builtin());
  EXPECT_EQ(counts.at("vqa"), 443757);
  EXPECT_EQ(counts.at("refcoco+"), 120624);
  EXPECT_THROW(parse_item_counts("vqa", TaskCatalog::builtin()), ConfigError);
  EXPECT_THROW(parse_item_counts("vqa=abc", TaskCatalog::builtin()), ConfigError);
  EXPECT_THROW(parse_item_counts("vqa=0", TaskCatalog::builtin()), ConfigError);
  EXPECT_THROW(parse_item_counts("vqa=12x", TaskCatalog::builtin()), ConfigError);
  EXPECT_THROW(parse_item_counts("no_such_task=5", TaskCatalog::builtin()), ConfigError);
  // train.iterations wins; else the largest epochs × batches per epoch.
  EXPECT_EQ(run_iterations(100, {{20, 781}, {20, 1562}}), 100);
  EXPECT_EQ(run_iterations(0, {{20, 781}, {10, 1562}, {3, 9000}}), 27000);
}

// The micro-batch: the task batch over ranks × accumulation; the error names both keys.
TEST(Plan, BatchDividesOverRanksAndAccumulation) {
  EXPECT_EQ(divide_batch(16, 2, "vqa"), 8);
  EXPECT_EQ(divide_batch(16, 2, "vqa", 2), 4);
  EXPECT_EQ(divide_batch(16, 1, "vqa", 2), divide_batch(16, 2, "vqa"));
  try {
    divide_batch(16, 2, "vqa", 3);
    ADD_FAILURE() << "16 / (2 x 3) accepted";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("tasks.vqa.batch_size = 16"), std::string::npos) << msg;
    EXPECT_NE(msg.find("train.gradient_accumulation = 3"), std::string::npos) << msg;
  }
  try {
    divide_batch(15, 2, "vqa");
    ADD_FAILURE() << "15 / 2 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("tasks.vqa.batch_size = 15 is not divisible by 2 ranks (each rank takes "
                                         "batch_size / ranks)"),
              std::string::npos)
        << e.what();
  }
}

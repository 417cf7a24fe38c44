#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "model/multitask_model.h"
#include "model/pair_forward.h"
#include "model_fixtures.h"
#include "tasks/pretraining.h"
#include "tasks/task_kind.h"
#include "test_paths.h"

using namespace vlmt;
using vlmt::testing::random_batch;
using vlmt::testing::tiny_config;

namespace {

// Expands tests/data/vilbert_state_dict.txt ("name.{i}.x (shape) i∈a..b") into name → shape.
std::map<std::string, std::vector<int64_t>> released_state_dict() {
  std::ifstream in(std::string(VLMT_TEST_DATA) + "/vilbert_state_dict.txt");
  EXPECT_TRUE(in.good());
  std::map<std::string, std::vector<int64_t>> out;
  const std::regex line_re(R"(^(\S+) \(([0-9, ]*)\)(?: i∈(\d+)\.\.(\d+))?\s*$)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, line_re)) continue;
    std::vector<int64_t> shape;
    std::stringstream ss(m[2].str());
    for (std::string dim; std::getline(ss, dim, ',');)
      if (dim.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoll(dim));
    const std::string name = m[1].str();
    if (m[3].matched) {
      // "{i} i∈0..2" with a bias listed for 0..2 means every index that has the entry in the
      // real state_dict: the released SimpleClassifier has bias at 0 and 2 (GeLU at 1 has none).
      for (int i = std::stoi(m[3].str()); i <= std::stoi(m[4].str()); ++i) {
        std::string n = std::regex_replace(name, std::regex(R"(\{i\})"), std::to_string(i));
        out[n] = shape;
      }
    } else {
      out[name] = shape;
    }
  }
  return out;
}

}  // namespace

TEST(Model, BasePresetMatchesReleasedStateDictAndCount) {
  ModelConfig base = load_model_preset("base", std::string(VLMT_SOURCE_DIR) + "/configs");
  MultiTaskModel model(base);
  auto expected = released_state_dict();
  // logit_fc.1 is the GeLU: the released list's "bias i∈0..2" covers indices 0 and 2 only.
  for (const char* head : {"vil_prediction", "vil_prediction_gqa", "vil_binary_prediction"})
    expected.erase(std::string(head) + ".logit_fc.1.bias");

  std::map<std::string, std::vector<int64_t>> actual;
  for (const auto& p : model->named_parameters(true)) actual[p.key()] = p.value().sizes().vec();
  for (const auto& [name, shape] : expected) {
    auto it = actual.find(name);
    ASSERT_NE(it, actual.end()) << "missing parameter " << name;
    EXPECT_EQ(it->second, shape) << name;
  }
  for (const auto& [name, shape] : actual) EXPECT_TRUE(expected.count(name)) << "unexpected parameter " << name;
  EXPECT_EQ(actual.size(), 560u);
  EXPECT_EQ(model->parameter_count(), 268028859);
  // The decoder is tied to the word embeddings.
  EXPECT_EQ(model->cls->predictions->decoder_weight.data_ptr(),
            model->bert->embeddings->word_embeddings->weight.data_ptr());
}

TEST(Model, LayerScheduleOfTheReleasedConfig) {
  ModelConfig base = load_model_preset("base", std::string(VLMT_SOURCE_DIR) + "/configs");
  EXPECT_EQ(describe_schedule(layer_schedule(base)),
            "T0 T1 T2 T3 T4 T5 C0 T6 V0 C1 T7 V1 C2 T8 V2 C3 T9 V3 C4 T10 V4 C5 V5 T11");
  EXPECT_EQ(describe_schedule(layer_schedule(tiny_config())), "C0 T0 V0 C1 V1 T1");
}

class ModelTokenModes : public ::testing::TestWithParam<TaskTokenMode> {};

TEST_P(ModelTokenModes, EveryHeadHasTheRightShape) {
  torch::manual_seed(0);
  ModelConfig c = tiny_config(GetParam());
  MultiTaskModel model(c);
  model->eval();
  const int64_t n = 3, len = 8, regions = 6;
  const int64_t extra = GetParam() == TaskTokenMode::kNone ? 0 : 1;
  for (const TaskSpec& spec : TaskCatalog::builtin().datasets()) {
    Batch b = random_batch(c, spec, n, len, regions);
    auto out = model->forward(b);
    EXPECT_EQ(out.trunk.text.sizes(), (std::vector<int64_t>{b.rows(), len + extra, c.hidden_size})) << spec.key;
    EXPECT_EQ(out.trunk.image.sizes(), (std::vector<int64_t>{b.rows(), regions, c.v_hidden_size}));
    EXPECT_EQ(out.fused.sizes(), (std::vector<int64_t>{b.rows(), c.bi_hidden_size}));
    auto r = kind_of(spec).compute(*model, b);
    EXPECT_EQ(r.loss.dim(), 0) << spec.key;
    EXPECT_TRUE(std::isfinite(r.loss.item<double>())) << spec.key;
    EXPECT_EQ(r.prediction.size(0), n) << spec.key;
    EXPECT_EQ(r.count, n);
    EXPECT_GE(r.score_sum, 0);
    EXPECT_LE(r.score_sum, n);
  }
  EXPECT_EQ(model->vqa_logits(model->forward(random_batch(c, builtin_task("vqa"), n))).size(1), c.num_vqa_answers);
  EXPECT_EQ(model->gqa_logits(model->forward(random_batch(c, builtin_task("gqa"), n))).size(1), c.num_gqa_answers);
  EXPECT_EQ(model->binary_logits(model->forward(random_batch(c, builtin_task("nlvr2"), n))).sizes(),
            (std::vector<int64_t>{n, 2}));
  EXPECT_EQ(model->tri_logits(model->forward(random_batch(c, builtin_task("snli_ve"), n))).size(1), 3);
  // Task-token parameters exist only when tokens are on.
  bool has_token = false;
  for (const auto& p : model->named_parameters()) has_token |= p.key() == "bert.embeddings.task_embeddings.weight";
  EXPECT_EQ(has_token, GetParam() != TaskTokenMode::kNone);
}

INSTANTIATE_TEST_SUITE_P(All, ModelTokenModes,
                         ::testing::Values(TaskTokenMode::kPerDataset, TaskTokenMode::kPerHead, TaskTokenMode::kNone));

TEST(Model, TaskTokenRowsFollowTheMode) {
  MultiTaskModel per_dataset(tiny_config(TaskTokenMode::kPerDataset));
  MultiTaskModel per_head(tiny_config(TaskTokenMode::kPerHead));
  MultiTaskModel none(tiny_config(TaskTokenMode::kNone));
  EXPECT_EQ(per_dataset->task_token_row(builtin_task("gqa")), 15);
  EXPECT_EQ(per_dataset->task_token_row(builtin_task("guesswhat")), 17);
  EXPECT_EQ(per_head->task_token_row(builtin_task("gqa")), 1);
  EXPECT_EQ(per_head->task_token_row(builtin_task("snli_ve")), 4);
  EXPECT_EQ(none->task_token_row(builtin_task("vqa")), -1);
  EXPECT_EQ(per_head->task_token_row(TaskCatalog::builtin().pretraining()), -1);
  // A dataset batch whose group was never set is refused by the per-head mode, not given row 0.
  EXPECT_THROW(per_head->task_token_row(builtin_task("vqa").id, TaskGroup::kPretraining), std::logic_error);
  // Different tokens give different outputs for the same input.
  torch::manual_seed(1);
  per_dataset->eval();
  Batch b = random_batch(per_dataset->config, builtin_task("vqa"), 2);
  auto a = per_dataset->forward(b).fused;
  const TaskSpec& refcoco = builtin_task("refcoco");  // the batch's task id and group pick the row
  b.task_id = refcoco.id;
  b.task_group = refcoco.group;
  auto c = per_dataset->forward(b).fused;
  EXPECT_FALSE(torch::allclose(a, c));
}

TEST(Model, PaddingTokensAndRegionsDoNotChangeOutputs) {
  torch::manual_seed(2);
  ModelConfig c = tiny_config();
  MultiTaskModel model(c);
  model->eval();
  Batch b = random_batch(c, builtin_task("refcoco"), 2, 8, 6);
  auto base = model->forward(b);
  auto base_regions = model->region_logits(base, b.image_mask);
  Batch changed = b;
  changed.input_ids = b.input_ids.clone();
  changed.input_ids.narrow(1, 6, 2).fill_(7);  // padding tokens (mask 0)
  changed.features = b.features.clone();
  changed.features.narrow(1, 5, 1).normal_();  // padding region (mask 0)
  changed.spatials = b.spatials.clone();
  changed.spatials.narrow(1, 5, 1).uniform_();
  auto after = model->forward(changed);
  EXPECT_TRUE(torch::allclose(base.fused, after.fused, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(base.trunk.pooled_text, after.trunk.pooled_text, 1e-5, 1e-6));
  auto after_regions = model->region_logits(after, changed.image_mask);
  EXPECT_TRUE(torch::allclose(base_regions.narrow(1, 0, 5), after_regions.narrow(1, 0, 5), 1e-5, 1e-6));
  // The padding region's logit carries the -10000 mask.
  EXPECT_LT(after_regions[0][5].item<double>(), -1000);
  // A real token does change the output.
  changed.input_ids[0][3] = (b.input_ids[0][3].item<int64_t>() + 1) % c.vocab_size;
  EXPECT_FALSE(torch::allclose(base.fused, model->forward(changed).fused, 1e-5, 1e-6));
}

// Retrieval evaluation encodes each caption and each image once and pairs the encodings
// (tasks/kind_retrieval.cpp); the result must be the forward of the paired rows. The config has
// text layers before the first co-attention (as base: T0..T5 C0), so the text prefix is not empty.
TEST(Model, EncodingEachSideOnceAndPairingEqualsTheForwardOfThePairs) {
  torch::manual_seed(5);
  ModelConfig c = tiny_config();
  c.num_hidden_layers = 3;
  c.t_biattention_id = {1, 2};
  MultiTaskModel model(c);
  model->eval();
  EXPECT_EQ(describe_schedule(model->bert->encoder->schedule), "T0 C0 T1 V0 C1 V1 T2");
  const int64_t captions = 3, images = 4;
  // VQA batches: one row per item (a retrieval batch has 4); the task only picks the token row.
  Batch text = random_batch(c, builtin_task("vqa"), captions, 8, 6);
  Batch regions = random_batch(c, builtin_task("vqa"), images, 8, 6);
  // The pairs as one batch: row k·images + i = caption k with image i.
  Batch pairs = text;
  for (torch::Tensor* t : {&pairs.input_ids, &pairs.segment_ids, &pairs.text_mask})
    *t = t->repeat_interleave(images, 0);
  pairs.features = regions.features.repeat({captions, 1, 1});
  pairs.spatials = regions.spatials.repeat({captions, 1, 1});
  pairs.image_mask = regions.image_mask.repeat({captions, 1});
  torch::NoGradGuard no_grad;
  const auto whole = model->retrieval_logits(model->forward(pairs)).view({captions, images});
  const StreamEncoding t = model->encode_text(text), v = model->encode_image(regions);
  const auto parts = model->retrieval_logits(forward_every_pair(*model, t, v)).view({captions, images});
  EXPECT_TRUE(torch::allclose(whole, parts, 1e-5, 1e-6)) << whole << parts;
  EXPECT_TRUE(whole.argsort(/*dim=*/1, /*descending=*/true).equal(parts.argsort(1, true)));
  EXPECT_GT((whole - whole.mean()).abs().max().item<double>(), 1e-6);  // the scores do differ
}

TEST(Model, UpdatesTouchOnlyTheTrunkAndTheActiveHead) {
  torch::manual_seed(3);
  ModelConfig c = tiny_config();
  MultiTaskModel model(c);
  Batch b = random_batch(c, builtin_task("visual7w"), 2);
  auto r = kind_of(builtin_task("visual7w")).compute(*model, b);
  r.loss.backward();
  for (const auto& p : model->named_parameters()) {
    // The masked-word decoder IS the trunk's word-embedding matrix under a second name.
    const bool in_trunk = p.key().rfind("bert.", 0) == 0 || p.key() == "cls.predictions.decoder.weight";
    const bool in_head = p.key().rfind("vision_logit.", 0) == 0;
    const bool has_grad = p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0;
    if (!in_trunk && !in_head) {
      EXPECT_FALSE(has_grad) << p.key();
    }
    if (in_head) {
      EXPECT_TRUE(has_grad) << p.key();
    }
  }
}

TEST(Model, PretrainingObjective) {
  torch::manual_seed(4);
  ModelConfig c = tiny_config();
  MultiTaskModel model(c);
  Batch b = random_batch(c, builtin_task("pretrain"), 4);
  auto r = pretrain_objective(*model, b);
  EXPECT_TRUE(std::isfinite(r.loss.item<double>()));
  EXPECT_GT(r.lm_loss.item<double>(), 0);
  EXPECT_GT(r.region_loss.item<double>(), 0);
  r.loss.backward();
  EXPECT_TRUE(model->cls->predictions->bias.grad().defined());
  EXPECT_TRUE(model->cls->imagePredictions->decoder->weight.grad().defined());
}

TEST(Pretraining, ValidationMetricsCountMaskedWordsRegionsAndPairs) {
  ModelConfig c = tiny_config();
  MultiTaskModel model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  Batch b = random_batch(c, builtin_task("pretrain"), 4);
  // Labels set to the model's own predictions: every masked word counts as right.
  const auto predicted = model->cls->predictions(model->forward(b).trunk.text).argmax(-1);
  b.lm_labels = torch::where(b.lm_labels.ge(0), predicted, b.lm_labels);
  auto r = pretrain_objective(*model, b);
  EXPECT_EQ(r.words_masked, b.lm_labels.ge(0).sum().item<double>());
  EXPECT_EQ(r.words_correct, r.words_masked);
  EXPECT_EQ(r.regions_masked, b.region_masked.sum().item<double>());
  EXPECT_NEAR(r.region_kl_sum / r.regions_masked, r.region_loss.item<double>(), 1e-5);
  // Labels shifted off the predictions: none is right.
  b.lm_labels = torch::where(b.lm_labels.ge(0), (predicted + 1) % c.vocab_size, b.lm_labels);
  EXPECT_EQ(pretrain_objective(*model, b).words_correct, 0);

  const auto objective = kind_of(TaskCatalog::builtin().pretraining()).compute(*model, b);
  ASSERT_EQ(objective.metrics.size(), 3u);
  EXPECT_EQ(objective.metrics[0].name, "masked_word_accuracy");
  EXPECT_EQ(objective.metrics[1].name, "masked_region_kl");
  EXPECT_EQ(objective.metrics[2].name, "alignment_accuracy");
  EXPECT_EQ(objective.metrics[2].count, 4);
  EXPECT_EQ(objective.metrics[2].sum, objective.score_sum);
}

TEST(Model, FusedLinearIsALinearWithATensLinearForward) {
  // The trunk's layers are torch::nn::Linear to everything that looks for one (initialisation,
  // checkpoints) and compute the bias inside the GEMM: the same values as matmul + bias.
  torch::manual_seed(3);
  FusedLinear fused(16, 8);
  torch::nn::Module& as_module = *fused;
  ASSERT_NE(as_module.as<torch::nn::Linear>(), nullptr);
  EXPECT_EQ(fused->named_parameters().size(), 2u);
  const auto x = torch::randn({4, 5, 16});
  const auto reference = torch::matmul(x, fused->weight.t()) + fused->bias;
  EXPECT_TRUE(torch::allclose(fused(x), reference, 1e-6, 1e-6));
  // a non-contiguous input takes ATen's other path and gives the same values
  const auto xt = torch::randn({5, 4, 16}).transpose(0, 1);
  EXPECT_TRUE(torch::allclose(fused(xt), torch::matmul(xt, fused->weight.t()) + fused->bias, 1e-6, 1e-6));
}

// Referring expressions (task_utils.py): the region the model picks is right when its IoU with
// the referred box is above 0.5. Every real region at IoU 0.45 is a miss whichever the model
// picks; at 0.55, a hit.
TEST(TaskKinds, AReferringHitNeedsAnIoUAboveHalf) {
  torch::manual_seed(5);
  ModelConfig c = tiny_config();
  MultiTaskModel model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  Batch b = random_batch(c, builtin_task("refcoco"), 4);
  const auto& grounding = kind_of(builtin_task("refcoco"));
  for (const double iou : {0.45, 0.55}) {
    b.target = b.image_mask.to(torch::kFloat32) * iou;
    const auto r = grounding.compute(*model, b);
    EXPECT_EQ(r.count, 4);
    EXPECT_EQ(r.score_sum, iou > 0.5 ? 4.0 : 0.0) << "every region at IoU " << iou;
  }
}

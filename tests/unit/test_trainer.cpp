// The Trainer assembled in one process from in-memory parts (no MPI, no files, no signal
// handlers): the LRs and loss scales it applies come from the tested helpers, a stop → resume
// gives the losses of an uninterrupted run, and the schedule's decisions are what it trains.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "core/error.h"
#include "distributed/local_communicator.h"
#include "distributed/runtime.h"
#include "model_fixtures.h"
#include "tasks/task_kind.h"
#include "train/adamw.h"
#include "train/head_prior.h"
#include "train/trainer.h"
#include "test_paths.h"

using namespace vlmt;

namespace {

// A dataset held in memory whose batches are a pure function of the item indices (no global
// generator is touched: the loader builds batches on its own threads).
class MemoryDataset : public TaskDataset {
 public:
  MemoryDataset(const TaskSpec& spec, const ModelConfig& model, int64_t items)
      : TaskDataset(context(spec)), spec_(spec), model_(model), items_(items) {}
  int64_t size() const override { return items_; }
  std::string item_id(int64_t i) const override { return spec_.key + std::to_string(i); }
  std::vector<std::string> item_images(int64_t i) const override { return {"img" + std::to_string(i % 5)}; }
  Batch get_batch(const std::vector<int64_t>& indices, Draws&) const override {
    const int64_t n = static_cast<int64_t>(indices.size()), L = 8, R = 6;
    auto idx = torch::tensor(indices, torch::kInt64).view({n, 1});
    Batch b;
    b.task = spec_.key;
    b.task_id = spec_.id;
    b.task_group = spec_.group;
    b.size = n;
    b.input_ids = (idx * 7 + torch::arange(L).view({1, L}) * 3) % (model_.vocab_size - 5) + 5;
    b.input_ids.select(1, 0).fill_(2);
    b.segment_ids = torch::zeros({n, L}, torch::kInt64);
    b.text_mask = torch::ones({n, L}, torch::kInt64);
    b.features = torch::sin(torch::arange(n * R * model_.v_feature_size).view({n, R, model_.v_feature_size}) * 0.37 +
                            idx.view({n, 1, 1}).to(torch::kFloat32));
    b.spatials = torch::full({n, R, 5}, 0.25);
    b.image_mask = torch::ones({n, R}, torch::kInt64);
    kind_of(spec_).fill_random_targets(b, model_, R, torch::kFloat32);  // deterministic for these kinds
    for (int64_t k = 0; k < n; ++k) {
      b.item_ids.push_back(item_id(indices[k]));
      b.image_ids.push_back(item_images(indices[k])[0]);
    }
    return b;
  }

 private:
  static DatasetContext context(const TaskSpec& spec) {
    DatasetContext ctx;
    ctx.task_key = spec.key;
    ctx.task_id = spec.id;
    ctx.task_group = spec.group;
    ctx.split = "memory";
    return ctx;
  }
  const TaskSpec& spec_;
  ModelConfig model_;
  int64_t items_;
};

// MemoryDataset whose region features are NaN: every loss is NaN.
class NanFeaturesDataset : public MemoryDataset {
 public:
  using MemoryDataset::MemoryDataset;
  Batch get_batch(const std::vector<int64_t>& indices, Draws& draws) const override {
    Batch b = MemoryDataset::get_batch(indices, draws);
    b.features.fill_(std::numeric_limits<float>::quiet_NaN());
    return b;
  }
};

struct MemoryRun {
  LocalCommunicator comm;
  std::vector<nlohmann::json> records;
  std::shared_ptr<CheckpointStore> store = memory_checkpoints();

  // vqa (LR 4e-5) and refcoco (LR 2e-5), 8 items each, batch 4: 2 batches per epoch.
  TrainerParts parts(std::vector<std::string> overrides) {
    // The defaults first: the caller's overrides win.
    overrides.insert(overrides.begin(), {"model.preset=\"tiny\"", "train.iterations=6", "train.log_every=1",
                                         "train.checkpoint_every=1000", "data.prefetch_batches=0"});
    TrainerParts p;
    p.config = load_run_config("", overrides, std::string(VLMT_SOURCE_DIR) + "/configs");
    p.run_name = "memory";
    p.control = &comm;
    p.checkpoints = store;
    p.metrics = [this](const nlohmann::json& r) { records.push_back(r); };
    p.clock = [] { return 1000.0; };
    p.stop_signals = false;
    for (const std::string key : {"vqa", "refcoco"}) {
      const TaskSpec& spec = builtin_task(key);
      TrainingStream s;
      s.spec = &spec;
      s.train = std::make_shared<MemoryDataset>(spec, p.config.model, 8);
      s.val = std::make_shared<MemoryDataset>(spec, p.config.model, 4);
      s.global_batch = 4;
      s.epochs = 3;
      s.lr = spec.released.lr;
      p.streams.push_back(std::move(s));
    }
    return p;
  }
  // Per-task training loss at each iteration, from the metrics records.
  std::map<std::pair<int64_t, std::string>, double> losses() const {
    std::map<std::pair<int64_t, std::string>, double> out;
    for (const auto& r : records)
      if (r.value("kind", "") == "train") out[{r["iter"].get<int64_t>(), r["task"].get<std::string>()}] = r["loss"];
    return out;
  }
  // The iteration of each validation record (one per task and validation).
  std::multiset<int64_t> validated_iterations() const {
    std::multiset<int64_t> out;
    for (const auto& r : records)
      if (r.value("kind", "") == "val") out.insert(r["iter"].get<int64_t>());
    return out;
  }
};

}  // namespace

TEST(Trainer, AppliesTheHelpersLearningRatesAndLossScales) {
  MemoryRun run;
  Trainer trainer(run.parts({"train.lr_multiplier=2.0"}));
  const double base = base_learning_rate(std::vector<double>{4e-5, 2e-5});
  EXPECT_DOUBLE_EQ(trainer.base_lr(), 2.0 * base);  // × train.lr_multiplier
  EXPECT_DOUBLE_EQ(trainer.loss_scale_of("vqa"), loss_scale(4e-5, base));
  EXPECT_DOUBLE_EQ(trainer.loss_scale_of("refcoco"), 1.0);
  EXPECT_DOUBLE_EQ(trainer.optimizer().options().base_lr, trainer.base_lr());
  EXPECT_DOUBLE_EQ(trainer.optimizer().options().head_lr, adamw_options(run.parts({}).config.train, 0).head_lr * 2.0);
  const auto before = trainer.model()->bert->embeddings->word_embeddings->weight.clone();
  EXPECT_EQ(trainer.run(), 0);
  EXPECT_FALSE(torch::equal(before, trainer.model()->bert->embeddings->word_embeddings->weight));
  EXPECT_EQ(trainer.state().iteration, 6);
  EXPECT_EQ(trainer.state().streams.at("vqa").updates, 6);
}

// The loss scale multiplies what the task's loss contributes to the gradient (not only the number
// reported): VQA's first step with base LR 2e-5 (scale 2) has twice the gradient of the same
// step with base LR 4e-5 (scale 1). Iteration 1 of anti-curriculum trains VQA alone.
TEST(Trainer, TheLossScaleMultipliesTheTasksGradient) {
  auto first_gradient = [](std::vector<std::string> overrides, double scale) {
    overrides.insert(overrides.end(), {"train.iterations=1", "train.schedule=\"anti_curriculum\"",
                                       "train.curriculum_iterations=1"});
    MemoryRun run;
    Trainer trainer(run.parts(overrides));
    EXPECT_DOUBLE_EQ(trainer.loss_scale_of("vqa"), scale);
    EXPECT_EQ(trainer.run(), 0);
    EXPECT_EQ(trainer.state().streams.at("refcoco").updates, 0);
    return trainer.model()->bert->embeddings->word_embeddings->weight.grad().clone();
  };
  const auto scaled = first_gradient({}, 2.0);
  const auto unscaled = first_gradient({"train.lr=4e-5"}, 1.0);
  ASSERT_TRUE(scaled.defined() && unscaled.defined());
  ASSERT_GT(unscaled.abs().max().item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(scaled, 2.0 * unscaled, 1e-5, 1e-12))
      << "largest difference " << (scaled - 2.0 * unscaled).abs().max().item<double>();
}

TEST(Trainer, StopThenResumeGivesTheUninterruptedLosses) {
  MemoryRun straight;
  Trainer whole(straight.parts({}));
  ASSERT_EQ(whole.run(), 0);
  const auto expected = straight.losses();
  ASSERT_EQ(expected.size(), 12u);  // 6 iterations × 2 tasks

  MemoryRun parted;
  {
    Trainer first(parted.parts({"train.stop_after_iteration=3"}));
    EXPECT_EQ(first.run(), static_cast<int>(ExitCode::kPreempted));
    EXPECT_EQ(first.state().iteration, 3);
  }
  Trainer second(parted.parts({}));  // the same store: resumes at iteration 3
  ASSERT_EQ(second.run(), 0);
  const auto got = parted.losses();
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [key, loss] : expected) EXPECT_EQ(got.at(key), loss) << "iteration " << key.first << " " << key.second;
}

TEST(Trainer, TrainsWhatTheScheduleDecides) {
  // Anti-curriculum: iterations 1..2 train only G1 (vqa), then every task.
  MemoryRun run;
  Trainer trainer(run.parts({"train.schedule=\"anti_curriculum\"", "train.curriculum_iterations=2"}));
  ASSERT_EQ(trainer.run(), 0);
  EXPECT_EQ(trainer.state().streams.at("vqa").updates, 6);
  EXPECT_EQ(trainer.state().streams.at("refcoco").updates, 4);
  for (const auto& [key, loss] : run.losses()) EXPECT_TRUE(key.second == "vqa" || key.first > 2) << key.first;
  // Both tasks are validated at the end of each of their epochs of 2 iterations, counted as the
  // released loop counts (after iterations 3 and 5), and once more after the last one (6).
  EXPECT_EQ(run.validated_iterations(), (std::multiset<int64_t>{3, 3, 5, 5, 6, 6}));
}

TEST(Trainer, ARunEndingWithAnEpochIsNotValidatedTwice) {
  // 5 iterations: iteration 5 already validates both tasks (released iterId 4 mod 2 = 0).
  MemoryRun run;
  Trainer trainer(run.parts({"train.iterations=5"}));
  ASSERT_EQ(trainer.run(), 0);
  EXPECT_EQ(run.validated_iterations(), (std::multiset<int64_t>{3, 3, 5, 5}));
}

TEST(Trainer, AFinishedRunResumedIsNotValidatedAgain) {
  MemoryRun run;
  ASSERT_EQ(Trainer(run.parts({})).run(), 0);
  const auto first = run.validated_iterations();
  EXPECT_EQ(first, (std::multiset<int64_t>{3, 3, 5, 5, 6, 6}));
  ASSERT_EQ(Trainer(run.parts({})).run(), 0);  // the same store: resumes at its last iteration
  EXPECT_EQ(run.validated_iterations(), first);
}

// train.head_bias_init = "prior": each BCE head's output bias becomes the log-odds of the mean
// target over its tasks' available choices; heads shared by tasks average them; kinds without
// BCE targets (retrieval) and loaded parameters are left alone.
TEST(Trainer, HeadBiasPriorIsTheLogOddsOfTheTargetBaseRate) {
  const ModelConfig config = vlmt::testing::tiny_config();
  MultiTaskModel model(config);
  const auto& refcoco = builtin_task("refcoco");
  const auto& visual7w = builtin_task("visual7w");
  const auto& vqa = builtin_task("vqa");
  const auto& retrieval = builtin_task("retrieval_coco");
  MemoryDataset refcoco_data(refcoco, config, 8), visual7w_data(visual7w, config, 8), vqa_data(vqa, config, 8),
      retrieval_data(retrieval, config, 8);
  const auto before_retrieval = model->vil_logit->bias.clone();
  const auto priors = set_head_bias_priors(
      *model, {{&refcoco, &refcoco_data}, {&visual7w, &visual7w_data}, {&vqa, &vqa_data}, {&retrieval, &retrieval_data}},
      /*keep=*/{"vil_prediction.logit_fc.3.bias"});
  ASSERT_EQ(priors.size(), 1u);  // vision_logit only: vil_prediction was kept, retrieval has no BCE
  EXPECT_EQ(priors[0].parameter, "vision_logit.bias");
  // MemoryDataset: refcoco targets 0.8 on one of 6 regions; Visual7W one of 4 candidates.
  const double p = (0.8 / 6 + 0.25) / 2;
  EXPECT_NEAR(priors[0].base_rate, p, 1e-6);
  EXPECT_NEAR(model->vision_logit->bias.item<double>(), std::log(p / (1 - p)), 1e-5);
  EXPECT_EQ(priors[0].tasks, (std::vector<std::string>{"refcoco", "visual7w"}));
  EXPECT_TRUE(model->vil_logit->bias.equal(before_retrieval));

  const auto vqa_priors = set_head_bias_priors(*model, {{&vqa, &vqa_data}}, {});
  ASSERT_EQ(vqa_priors.size(), 1u);
  EXPECT_EQ(vqa_priors[0].parameter, "vil_prediction.logit_fc.3.bias");
  const auto target = vqa_data.get_batch({0, 1, 2, 3, 4, 5, 6, 7}, *std::make_unique<RngDraws>(0)).target;
  const double q = target.mean().item<double>();
  EXPECT_TRUE(torch::allclose(model->vil_prediction->logit_fc[3]->as<torch::nn::Linear>()->bias,
                              torch::full({config.num_vqa_answers}, std::log(q / (1 - q))), 1e-5, 1e-6));
}

TEST(Trainer, ANonFiniteLossStopsTheRunBeforeTheWeightsChange) {
  MemoryRun run;
  TrainerParts parts = run.parts({});
  for (auto& s : parts.streams) s.train = std::make_shared<NanFeaturesDataset>(*s.spec, parts.config.model, 8);
  Trainer trainer(std::move(parts));
  std::vector<torch::Tensor> before;
  for (const auto& p : trainer.model()->parameters()) before.push_back(p.detach().clone());
  try {
    trainer.run();
    FAIL() << "a run with NaN losses finished";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("loss is "), std::string::npos) << what;
    EXPECT_NE(what.find("at iteration 1 "), std::string::npos) << what;
  }
  const auto after = trainer.model()->parameters();
  ASSERT_EQ(after.size(), before.size());
  size_t changed = 0;
  for (size_t i = 0; i < after.size(); ++i) changed += !torch::equal(before[i], after[i]);
  EXPECT_EQ(changed, 0u) << "parameters updated by the step whose loss was not finite";
  EXPECT_EQ(trainer.state().iteration, 0);
}

// Golden training steps from the released code (tools/dev/golden/make_golden_steps.py, run once
// against facebookresearch/vilbert-multi-task; the files in tests/data/golden are its output):
// for one batch of every task kind and pretraining, vlmt's loss, the gradient of every
// parameter and the change of every parameter after one AdamW step must equal the released
// implementation's. Both sides compute in float64 from the same float32 initial weights, so the
// tolerance (relative 1e-5 of each tensor's largest entry) only absorbs the float32 rounding of
// the stored gradients and deltas.
//
// The multi-task cases go through the trainer's rules (train/adamw.h, as Trainer applies them):
// the base LR is base_learning_rate() of the built-in tasks' LRs and each task's loss is
// multiplied by loss_scale(task LR, base LR) before backward (2 for VQA and GQA), as
// train_tasks.py does. The reference optimiser the golden files were made with is the script's
// re-implementation of pytorch-transformers 1.0's AdamW (that package is not installed), from
// its definition; tools/dev/golden/README.md states the rule.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ckpt/param_io.h"
#include "ckpt/safetensors.h"
#include "config/run_config.h"
#include "model/multitask_model.h"
#include "tasks/task_kind.h"
#include "train/adamw.h"
#include "released_batch.h"
#include "test_paths.h"

using namespace vlmt;

namespace {

const std::string kDir = std::string(VLMT_TEST_DATA) + "/golden/";
constexpr double kRelTol = 1e-5;

nlohmann::json golden_config() {
  std::ifstream in(kDir + "config.json");
  return nlohmann::json::parse(in);
}

ModelConfig model_config(const nlohmann::json& g) {
  const auto& m = g["model"];
  ModelConfig c;
  c.preset = "golden";
  c.vocab_size = m["vocab_size"];
  c.hidden_size = m["hidden_size"];
  c.num_hidden_layers = m["num_hidden_layers"];
  c.num_attention_heads = m["num_attention_heads"];
  c.intermediate_size = m["intermediate_size"];
  c.max_position_embeddings = m["max_position_embeddings"];
  c.type_vocab_size = m["type_vocab_size"];
  c.v_feature_size = m["v_feature_size"];
  c.v_target_size = m["v_target_size"];
  c.v_hidden_size = m["v_hidden_size"];
  c.v_num_hidden_layers = m["v_num_hidden_layers"];
  c.v_num_attention_heads = m["v_num_attention_heads"];
  c.v_intermediate_size = m["v_intermediate_size"];
  c.bi_hidden_size = m["bi_hidden_size"];
  c.bi_num_attention_heads = m["bi_num_attention_heads"];
  c.bi_intermediate_size = m["bi_intermediate_size"];
  c.v_biattention_id = m["v_biattention_id"].get<std::vector<int64_t>>();
  c.t_biattention_id = m["t_biattention_id"].get<std::vector<int64_t>>();
  c.hidden_dropout = c.attention_dropout = c.v_hidden_dropout = c.v_attention_dropout = 0.0;
  c.num_vqa_answers = g["num_vqa_answers"];
  c.num_gqa_answers = g["num_gqa_answers"];
  return c;
}

std::map<std::string, torch::Tensor> read_all(const std::string& file) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, t] : ckpt::read_safetensors(kDir + file).tensors) out[name] = t;
  return out;
}

void expect_close(const torch::Tensor& mine, const torch::Tensor& golden, const std::string& what) {
  ASSERT_EQ(mine.sizes(), golden.sizes()) << what;
  const auto g = golden.to(torch::kDouble), m = mine.detach().to(torch::kDouble);
  const double scale = g.abs().max().item<double>();
  const double err = (m - g).abs().max().item<double>();
  EXPECT_LE(err, kRelTol * scale + 1e-12) << what << ": max error " << err << " vs largest entry " << scale;
}

class GoldenStep : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = golden_config();
    model_ = MultiTaskModel(model_config(config_));
    model_->to(torch::kDouble);
    model_->eval();  // no dropout (the golden run has none either)
    ckpt::load_parameters(*model_, ckpt::read_safetensors(kDir + "initial.safetensors").tensors, "initial.safetensors",
                          /*allow_partial=*/false);
    for (auto& [name, p] : model_->unique_named_parameters()) initial_[name] = p.detach().clone();
  }

  // The base LR of the 12-task run: the smallest LR of the built-in tasks (Trainer::build_streams).
  static double multitask_base_lr() {
    std::vector<double> lrs;
    for (const TaskSpec& spec : TaskCatalog::builtin().datasets())
      if (spec.builtin()) lrs.push_back(spec.released.lr);
    return base_learning_rate(lrs);
  }

  // The optimiser vlmt's stage would build: train.* defaults of the stage; the multi-task base
  // LR from vlmt's rule (the golden file records the released value it must equal).
  AdamW optimizer(const std::string& stage) {
    TrainConfig train;
    train.stage = stage;
    apply_stage_defaults(train);
    const auto& o = config_[stage == "pretrain" ? "pretrain_optimizer" : "multitask_optimizer"];
    if (stage != "pretrain") EXPECT_DOUBLE_EQ(multitask_base_lr(), o["lr_base"].get<double>());
    AdamWOptions options = adamw_options(train, stage == "pretrain" ? o["lr"].get<double>() : multitask_base_lr());
    if (stage != "pretrain") options.head_lr = o["lr_vil"];
    else options.head_lr = o["lr"];
    NamedTensors named;  // as the trainer lists them: the tied matrix under both names
    for (const auto& p : model_->named_parameters(true)) named.emplace_back(p.key(), p.value());
    return AdamW(named, options);
  }

  // Forward, the trainer's loss scale (tasks; pretraining has none), backward.
  double forward_backward(const Batch& b) {
    const TaskSpec& spec = builtin_task(b.task);
    auto loss = kind_of(spec).compute(*model_, b).loss;
    if (spec.key != TaskCatalog::builtin().pretraining().key) loss = loss * loss_scale(spec.released.lr, multitask_base_lr());
    loss.backward();
    return loss.item<double>();
  }

  void expect_loss(const std::map<std::string, torch::Tensor>& f, const std::string& key, double loss) {
    const double golden = f.at(key).item<double>();
    EXPECT_NEAR(loss, golden, 1e-9 * std::abs(golden)) << key;
  }

  // The golden entry `prefix + name` of a parameter, under any of its names (the tied
  // word-embedding / decoder matrix has two); nullptr when there is none.
  const torch::Tensor* golden_of(const std::map<std::string, torch::Tensor>& f, const std::string& prefix,
                                 const torch::Tensor& p) {
    for (const auto& q : model_->named_parameters(true))
      if (q.value().is_same(p))
        if (const auto it = f.find(prefix + q.key()); it != f.end()) return &it->second;
    return nullptr;
  }

  // Every parameter with a golden gradient has vlmt's; no other parameter has one.
  void expect_gradients(const std::map<std::string, torch::Tensor>& f) {
    size_t compared = 0, golden = 0;
    for (const auto& [key, t] : f) golden += key.rfind("grad/", 0) == 0;
    for (auto& [name, p] : model_->unique_named_parameters()) {
      const torch::Tensor* g = golden_of(f, "grad/", p);
      if (g == nullptr) {
        const bool none = !p.grad().defined() || p.grad().abs().max().item<double>() == 0.0;
        EXPECT_TRUE(none) << name << " has a gradient the released code does not";
        continue;
      }
      ++compared;
      // PyTorch 1.x keeps a zero gradient where vlmt drops it (train/adamw.h): the same step.
      if (!p.grad().defined()) {
        EXPECT_EQ(g->abs().max().item<double>(), 0.0) << name << " has no gradient";
        continue;
      }
      expect_close(p.grad(), *g, "grad " + name);
    }
    EXPECT_EQ(compared, golden) << "golden gradients of parameters vlmt does not have";
  }

  // Parameter changes after the step(s) equal the golden deltas; parameters without one stay.
  void expect_deltas(const std::map<std::string, torch::Tensor>& f) {
    for (auto& [name, p] : model_->unique_named_parameters()) {
      const auto delta = p.detach() - initial_.at(name);
      const torch::Tensor* d = golden_of(f, "delta/", p);
      if (d == nullptr) {
        EXPECT_EQ(delta.abs().max().item<double>(), 0.0) << name << " moved; the released step leaves it";
        continue;
      }
      expect_close(delta, *d, "delta " + name);
    }
  }

  void run_task_case(const std::string& key) {
    const auto f = read_all(key + ".safetensors");
    const TaskSpec& spec = builtin_task(key);
    AdamW opt = optimizer("mt_train");
    const double loss = forward_backward(released::to_batch(f, "input/", spec));
    expect_loss(f, "loss", loss);
    expect_gradients(f);
    opt.step(1.0);
    expect_deltas(f);
  }

  nlohmann::json config_;
  MultiTaskModel model_{nullptr};
  std::map<std::string, torch::Tensor> initial_;
};

TEST_F(GoldenStep, VqaClassifier) { run_task_case("vqa"); }
TEST_F(GoldenStep, GqaClassifier) { run_task_case("gqa"); }
TEST_F(GoldenStep, Retrieval) { run_task_case("retrieval_coco"); }
TEST_F(GoldenStep, RegionGrounding) { run_task_case("refcoco"); }
TEST_F(GoldenStep, RegionChoice) { run_task_case("visual7w"); }
TEST_F(GoldenStep, PairVerification) { run_task_case("nlvr2"); }
TEST_F(GoldenStep, TriVerification) { run_task_case("snli_ve"); }

// Issue 12, row 5: after a VQA step, an NLVR2 step still moves the VQA head (its zero gradient
// keeps the momentum update and the weight decay).
TEST_F(GoldenStep, SecondTaskStillMovesTheFirstTasksHead) {
  const auto f = read_all("vqa_then_nlvr2.safetensors");
  AdamW opt = optimizer("mt_train");
  expect_loss(f, "loss_step1", forward_backward(released::to_batch(f, "input_step1/", builtin_task("vqa"))));
  opt.step(1.0);
  opt.zero_grad();
  expect_loss(f, "loss", forward_backward(released::to_batch(f, "input/", builtin_task("nlvr2"))));
  expect_gradients(f);
  opt.step(1.0);
  expect_deltas(f);
}

TEST_F(GoldenStep, Pretraining) {
  const auto f = read_all("pretrain.safetensors");
  AdamW opt = optimizer("pretrain");
  expect_loss(f, "loss", forward_backward(released::to_pretrain_batch(f)));
  expect_gradients(f);
  opt.step(1.0);
  expect_deltas(f);
}

}  // namespace

// AdamW as released: hand-computed steps without bias correction, grouping by name, tied
// parameters, gradient-less parameters, clipping and the checkpoint state round trip; the fused
// CPU pass against LibTorch's op-by-op form.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "config/run_config.h"
#include "core/error.h"
#include "train/adamw.h"
#include "train/adamw_update.h"

namespace vlmt {
namespace {

torch::Tensor param(std::vector<float> values) {
  return torch::tensor(values, torch::kFloat32).set_requires_grad(true);
}

void set_grad(torch::Tensor& p, std::vector<float> g) {
  p.mutable_grad() = torch::tensor(g, torch::kFloat32);
}

void expect_values(const torch::Tensor& t, std::vector<double> expected, double tol = 1e-6) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(t[i].item<double>(), expected[i], tol) << "element " << i;
}

AdamWOptions hand_options() {
  AdamWOptions o;
  o.base_lr = 0.1;
  o.head_lr = 0.1;
  o.weight_decay = 0.01;
  o.beta1 = 0.9;
  o.beta2 = 0.999;
  o.eps = 1e-6;
  return o;
}

TEST(TrainAdamW, TwoStepsMatchHandComputedNumbersWithoutBiasCorrection) {
  // Same start and gradients for a decayed weight and a no-decay bias.
  torch::Tensor w = param({1.0f, -2.0f});
  torch::Tensor b = param({1.0f, -2.0f});
  AdamW opt({{"layer.dense.weight", w}, {"layer.dense.bias", b}}, hand_options());

  // Step 1, g = (0.5, -0.1): m = 0.1 g, v = 0.001 g², update = m / (√v + 1e-6) ≈ ±3.162
  // (bias-corrected Adam would move by ≈ 1 × lr instead); then p ← p (1 − lr·wd) for w.
  set_grad(w, {0.5f, -0.1f});
  set_grad(b, {0.5f, -0.1f});
  EXPECT_EQ(opt.step(1.0).updated, 2);
  expect_values(w, {0.6831084404856129, -1.682188330168012});
  expect_values(b, {0.6837922327183312, -1.6838722023703825});
  expect_values(opt.param("layer.dense.weight").exp_avg, {0.05, -0.01});
  expect_values(opt.param("layer.dense.weight").exp_avg_sq, {0.00025, 1e-5}, 1e-9);

  // Step 2, g = (0.2, 0.3): moments accumulate.
  set_grad(w, {0.2f, 0.3f});
  set_grad(b, {0.2f, 0.3f});
  opt.step(1.0);
  expect_values(w, {0.30097182715962373, -1.8902856531245171});
  expect_values(b, {0.30195689249260194, -1.8938617031578429});
  EXPECT_EQ(opt.param("layer.dense.bias").steps, 2);
}

TEST(TrainAdamW, LrFactorScalesTheStep) {
  torch::Tensor a = param({1.0f});
  AdamWOptions o = hand_options();
  o.weight_decay = 0.0;
  AdamW opt({{"x.weight", a}}, o);
  set_grad(a, {0.5f});
  opt.step(0.5);  // lr 0.05, update 0.1·0.5/(√(0.001·0.25)+1e-6)
  expect_values(a, {1.0 - 0.05 * 0.05 / (std::sqrt(0.00025) + 1e-6)});
  set_grad(a, {0.5f});
  const float before = a.item<float>();
  opt.step(0.0);  // factor 0 (first iteration of the warm-up) leaves the value unchanged
  EXPECT_EQ(a.item<float>(), before);
}

TEST(TrainAdamW, GroupsByName) {
  const std::vector<std::string> names = {
      "bert.encoder.layer.0.output.LayerNorm.weight",
      "bert.encoder.c_layer.0.biOutput.LayerNorm1.weight",
      "bert.encoder.c_layer.0.biOutput.LayerNorm2.bias",
      "bert.encoder.layer.0.output.dense.bias",
      "bert.encoder.layer.0.output.dense.weight",
      "vil_prediction.logit_fc.0.weight",
      "vil_prediction.logit_fc.0.bias",
      "vision_logit.weight",
      "vil_prediction.logit_fc.2.weight",
  };
  NamedTensors named;
  for (const auto& n : names) named.emplace_back(n, param({0.0f}));
  AdamW opt(named, AdamWOptions{});
  auto decay = [&](const std::string& n) { return opt.param(n).decay; };
  auto head = [&](const std::string& n) { return opt.param(n).head; };
  EXPECT_FALSE(decay(names[0]));
  EXPECT_TRUE(decay(names[1]));   // "LayerNorm1.weight" is not in the released no-decay list
  EXPECT_TRUE(decay(names[8]));   // nor is the heads' LayerNorm, named by its Sequential index
  EXPECT_FALSE(decay(names[2]));
  EXPECT_FALSE(decay(names[3]));
  EXPECT_TRUE(decay(names[4]));
  EXPECT_TRUE(decay(names[5]));
  EXPECT_FALSE(decay(names[6]));
  EXPECT_TRUE(decay(names[7]));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(head(names[i])) << names[i];
  EXPECT_TRUE(head(names[5]));
  EXPECT_TRUE(head(names[6]));
  EXPECT_FALSE(head(names[7]));  // "vision_logit" has no "vil_": base LR, as released
}

TEST(TrainAdamW, HeadParametersUseTheHeadLearningRate) {
  torch::Tensor trunk = param({1.0f});
  torch::Tensor head = param({1.0f});
  AdamWOptions o;
  o.base_lr = 2e-5;
  o.head_lr = 1e-4;
  o.weight_decay = 0.0;
  AdamW opt({{"bert.pooler.dense.bias", trunk}, {"vil_logit.bias", head}}, o);
  set_grad(trunk, {0.3f});
  set_grad(head, {0.3f});
  opt.step(1.0);
  const double trunk_move = 1.0 - trunk.item<double>();
  const double head_move = 1.0 - head.item<double>();
  EXPECT_GT(trunk_move, 0.0);
  EXPECT_NEAR(head_move / trunk_move, 5.0, 1e-3);
}

TEST(TrainAdamW, TiedParameterIsUpdatedOnce) {
  torch::Tensor tied = param({1.0f, -2.0f});
  torch::Tensor twin = param({1.0f, -2.0f});
  AdamW opt({{"bert.embeddings.word_embeddings.weight", tied},
             {"cls.predictions.decoder.weight", tied}},
            hand_options());
  AdamW single({{"w.weight", twin}}, hand_options());
  ASSERT_EQ(opt.params().size(), 1u);
  EXPECT_EQ(opt.params()[0].aliases,
            std::vector<std::string>{"cls.predictions.decoder.weight"});
  set_grad(tied, {0.5f, -0.1f});
  set_grad(twin, {0.5f, -0.1f});
  EXPECT_EQ(opt.step(1.0).updated, 1);
  single.step(1.0);
  EXPECT_TRUE(torch::equal(tied, twin));
  EXPECT_EQ(opt.param("cls.predictions.decoder.weight").steps, 1);
}

TEST(TrainAdamW, TiedNamesInDifferentGroupsAreRejected) {
  torch::Tensor t = param({1.0f});
  EXPECT_THROW(AdamW({{"a.weight", t}, {"a.bias", t}}, AdamWOptions{}), Error);
}

// PyTorch 1.x semantics of the released run (issue 12, row 5): a parameter that never had a
// gradient stays; once it had one, zero_grad() leaves a zero gradient, so it keeps taking the
// momentum update and the weight decay at every later step, of any task.
TEST(TrainAdamW, ParametersStepOnceTheyHadAGradient) {
  torch::Tensor x = param({1.0f, 2.0f});
  torch::Tensor used = param({0.5f, 0.5f});
  torch::Tensor other_head = param({0.5f, 0.5f});
  AdamW opt({{"vil_logit.weight", used}, {"vil_tri_prediction.weight", other_head}},
            hand_options());
  (used * x).sum().backward();  // real autograd: only the active task's head gets a gradient
  const torch::Tensor before = other_head.detach().clone();
  EXPECT_EQ(opt.step(1.0).updated, 1);
  EXPECT_TRUE(torch::equal(other_head, before));
  expect_values(used, {0.18359845143327752, 0.18359345667020244});
  opt.zero_grad();
  EXPECT_FALSE(used.grad().defined());
  // Another task's step: `used` has a zero gradient now; m and v decay, p still moves.
  EXPECT_EQ(opt.step(1.0).updated, 1);
  expect_values(used, {-0.10103879862991792, -0.10104828818467726});
  EXPECT_EQ(opt.param("vil_logit.weight").steps, 2);
  EXPECT_EQ(opt.param("vil_tri_prediction.weight").steps, 0);
  EXPECT_TRUE(torch::equal(other_head, before));
}

// train_concap.py's AdamW: bias correction on, β2 0.98, ε 1e-8.
TEST(TrainAdamW, BiasCorrectionForPretraining) {
  torch::Tensor w = param({1.0f});
  AdamWOptions o = hand_options();
  o.beta2 = 0.98;
  o.eps = 1e-8;
  o.bias_correction = true;
  AdamW opt({{"layer.dense.weight", w}}, o);
  set_grad(w, {0.5f});
  opt.step(1.0);
  expect_values(w, {0.8991000141279915});
  set_grad(w, {0.2f});
  opt.step(1.0);
  expect_values(w, {0.8081194675746372});
}

TEST(TrainAdamW, ClipsTheGlobalGradientNorm) {
  torch::Tensor a = param({0.0f});
  torch::Tensor b = param({0.0f});
  AdamWOptions o = hand_options();
  o.grad_clip = 1.0;
  AdamW opt({{"a.weight", a}, {"b.weight", b}}, o);
  set_grad(a, {3.0f});
  set_grad(b, {4.0f});
  const auto result = opt.step(1.0);
  ASSERT_TRUE(result.grad_norm.has_value());
  EXPECT_NEAR(*result.grad_norm, 5.0, 1e-9);
  EXPECT_NEAR(a.grad().item<double>(), 0.6, 1e-6);
  EXPECT_NEAR(b.grad().item<double>(), 0.8, 1e-6);
  expect_values(opt.param("b.weight").exp_avg, {0.08});
}

TEST(TrainAdamW, StateRoundTripContinuesIdentically) {
  auto make = [] { return std::vector<torch::Tensor>{param({1.0f, 2.0f}), param({-1.0f})}; };
  std::vector<torch::Tensor> pa = make(), pb = make();
  AdamW a({{"m.weight", pa[0]}, {"m.bias", pa[1]}}, hand_options());
  for (int step = 0; step < 3; ++step) {
    set_grad(pa[0], {0.1f * step + 0.2f, -0.3f});  // m.bias never gets a gradient
    a.step(1.0);
  }
  const NamedTensors state = a.state_tensors();
  ASSERT_EQ(state.size(), 3u);  // only m.weight has state
  EXPECT_EQ(state[0].first, "m.weight.exp_avg");
  EXPECT_EQ(state[2].second.item<int64_t>(), 3);

  AdamW b({{"m.weight", pb[0]}, {"m.bias", pb[1]}}, hand_options());
  b.load_state_tensors(state);
  pb[0].detach().copy_(pa[0].detach());
  set_grad(pa[0], {0.7f, 0.1f});
  set_grad(pb[0], {0.7f, 0.1f});
  a.step(0.5);
  b.step(0.5);
  EXPECT_TRUE(torch::equal(pa[0], pb[0]));
  EXPECT_EQ(b.param("m.weight").steps, 4);
}

TEST(TrainAdamW, BadStateIsRejectedByName) {
  torch::Tensor p = param({1.0f, 2.0f});
  AdamW opt({{"m.weight", p}}, hand_options());
  const auto two = torch::zeros({2});
  const auto step = torch::tensor(int64_t{1});
  try {
    opt.load_state_tensors({{"n.weight.exp_avg", two}, {"n.weight.exp_avg_sq", two},
                            {"n.weight.step", step}});
    FAIL() << "unknown parameter accepted";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("n.weight"), std::string::npos);
  }
  EXPECT_THROW(opt.load_state_tensors({{"m.weight.exp_avg", torch::zeros({3})},
                                       {"m.weight.exp_avg_sq", torch::zeros({3})},
                                       {"m.weight.step", step}}),
               CheckpointError);
  EXPECT_THROW(opt.load_state_tensors({{"m.weight.exp_avg", two}}), CheckpointError);
  EXPECT_THROW(opt.load_state_tensors({{"m.weight.momentum", two}}), CheckpointError);
}

TEST(TrainAdamW, BaseLearningRateAndLossScale) {
  TaskConfig tasks;
  tasks.active = {"vqa", "refcoco"};
  tasks.hyper["vqa"].lr = 4e-5;
  tasks.hyper["refcoco"].lr = 2e-5;
  const double base = base_learning_rate(tasks);
  EXPECT_DOUBLE_EQ(base, 2e-5);
  EXPECT_DOUBLE_EQ(loss_scale(4e-5, base), 2.0);
  EXPECT_DOUBLE_EQ(loss_scale(2e-5, base), 1.0);
  tasks.active.clear();
  EXPECT_THROW(base_learning_rate(tasks), ConfigError);
}

// The fused pass and the op-by-op form, from the same state, over steps with and without a
// gradient and with and without decay: within float32 rounding of each other (LibTorch's
// vectorised add may contract into an FMA where the fused loop rounds twice).
TEST(TrainAdamW, FusedPassEqualsTheOpByOpUpdate) {
  torch::manual_seed(3);
  const int64_t n = 100003;  // several parallel chunks and a ragged end
  torch::Tensor p_fused = torch::randn({n}), g = torch::randn({n}) * 0.01;
  torch::Tensor m_fused = torch::zeros({n}), v_fused = torch::zeros({n});
  torch::Tensor p_ops = p_fused.clone(), m_ops = m_fused.clone(), v_ops = v_fused.clone();
  const torch::Tensor start = p_fused.clone();
  ASSERT_TRUE(adamw_fusable(p_fused, g, m_fused, v_fused));
  for (int step = 0; step < 6; ++step) {
    AdamWCoefficients c;
    c.step_size = 1e-3;
    c.decay = step % 2 == 0 ? 1e-5 : 0.0;
    const torch::Tensor grad = step == 3 ? torch::Tensor() : g * (step + 1);
    adamw_update(p_fused, grad, m_fused, v_fused, c, AdamWKernel::kFused);
    adamw_update(p_ops, grad, m_ops, v_ops, c, AdamWKernel::kOpByOp);
  }
  EXPECT_LE((p_fused - p_ops).abs().max().item<double>(), 1e-6);
  EXPECT_LE(((m_fused - m_ops).abs() / m_ops.abs().clamp_min(1e-12)).max().item<double>(), 1e-5);
  EXPECT_LE(((v_fused - v_ops).abs() / v_ops.abs().clamp_min(1e-20)).max().item<double>(), 1e-5);
  // The parameters did move: about 1e-3 per step and element, far above the bound above.
  EXPECT_GT((p_fused - start).abs().mean().item<double>(), 1e-3);
}

// As an in-place op would: a graph that saved the parameter before the step cannot backward.
TEST(TrainAdamW, FusedPassBumpsTheParameterVersion) {
  torch::Tensor p = torch::randn({8}).set_requires_grad(true);
  torch::Tensor m = torch::zeros({8}), v = torch::zeros({8});
  torch::Tensor loss = (p * p).sum();  // saves p for backward
  AdamWCoefficients c;
  c.step_size = 0.1;
  adamw_update(p, torch::ones({8}), m, v, c, AdamWKernel::kFused);
  EXPECT_THROW(loss.backward(), c10::Error);
}

TEST(TrainAdamW, KernelNamesSelectTheUpdate) {
  EXPECT_EQ(adamw_kernel_named("fused"), AdamWKernel::kAuto);
  EXPECT_EQ(adamw_kernel_named("ops"), AdamWKernel::kOpByOp);
  EXPECT_THROW(adamw_kernel_named("Fused"), ConfigError);
}

TEST(TrainAdamW, FusedPassRefusesWhatItCannotRun) {
  torch::Tensor p = torch::randn({4, 4}), m = torch::zeros({4, 4}), v = torch::zeros({4, 4});
  torch::Tensor strided = p.t();
  EXPECT_FALSE(adamw_fusable(strided, torch::Tensor(), m, v));
  EXPECT_FALSE(adamw_fusable(p.to(torch::kFloat64), torch::Tensor(), m, v));
  EXPECT_THROW(adamw_update(strided, torch::Tensor(), m, v, AdamWCoefficients{}, AdamWKernel::kFused), Error);
  // kAuto falls back to the op-by-op form and still updates the transposed view.
  const torch::Tensor before = p.clone();
  AdamWCoefficients c;
  c.step_size = 0.1;
  adamw_update(strided, torch::ones({4, 4}), m, v, c);
  EXPECT_FALSE(p.equal(before));
}

}  // namespace
}  // namespace vlmt

// Float64 finite-difference checks of the analytic gradients: the co-attention layer on its
// own, and every head through its task objective.
#include <gtest/gtest.h>

#include <functional>

#include "model/co_attention.h"
#include "model/multitask_model.h"
#include "model_fixtures.h"
#include "tasks/pretraining.h"
#include "tasks/task_kind.h"

using namespace vlmt;
using vlmt::testing::random_batch;
using vlmt::testing::tiny_config;

namespace {

// Compares d loss / d t[idx] from autograd with a central difference, at `samples` entries.
void expect_gradients_match(torch::Tensor t, const std::function<torch::Tensor()>& loss_fn, int samples,
                            const std::string& what) {
  if (t.grad().defined()) t.grad().zero_();
  auto loss = loss_fn();
  loss.backward();
  ASSERT_TRUE(t.grad().defined()) << what << ": no gradient";
  auto grad = t.grad().clone().view({-1});
  auto flat = t.detach().view({-1});
  const double h = 1e-6;
  auto gen = at::detail::createCPUGenerator(7);
  for (int s = 0; s < samples; ++s) {
    const int64_t i = torch::randint(0, flat.numel(), {1}, gen).item<int64_t>();
    const double orig = flat[i].item<double>();
    double plus, minus;
    {
      torch::NoGradGuard g;
      flat[i] = orig + h;
      plus = loss_fn().item<double>();
      flat[i] = orig - h;
      minus = loss_fn().item<double>();
      flat[i] = orig;
    }
    const double numeric = (plus - minus) / (2 * h);
    const double analytic = grad[i].item<double>();
    EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << what << " entry " << i;
  }
}

}  // namespace

TEST(GradCheck, CoAttentionLayer) {
  torch::manual_seed(10);
  const CoAttentionDims d{16, 12, 16, 4, 20, 24, 0.0, 0.0, 0.0, 1e-12};
  CoAttentionLayer layer(d);
  layer->to(torch::kFloat64);
  layer->eval();
  auto image = torch::randn({2, 4, 16}, torch::kFloat64).requires_grad_();
  auto text = torch::randn({2, 5, 12}, torch::kFloat64).requires_grad_();
  auto image_mask = additive_mask(torch::tensor({{1, 1, 1, 0}, {1, 1, 0, 0}}), torch::kFloat64);
  auto text_mask = additive_mask(torch::tensor({{1, 1, 1, 1, 0}, {1, 1, 1, 0, 0}}), torch::kFloat64);
  auto wv = torch::randn({2, 4, 16}, torch::kFloat64), wt = torch::randn({2, 5, 12}, torch::kFloat64);
  auto loss = [&] {
    auto [v, t] = layer(image, image_mask, text, text_mask);
    return (v * wv).sum() + (t * wt).sum();
  };
  expect_gradients_match(image, loss, 8, "image input");
  expect_gradients_match(text, loss, 8, "text input");
  expect_gradients_match(layer->biattention->query1->weight, loss, 5, "query1");
  expect_gradients_match(layer->biattention->value2->weight, loss, 5, "value2");
  expect_gradients_match(layer->biOutput->dense2->weight, loss, 5, "dense2");
  expect_gradients_match(layer->t_output->LayerNorm->weight, loss, 3, "t_output.LayerNorm");
}

TEST(GradCheck, EveryHeadThroughItsObjective) {
  torch::manual_seed(11);
  ModelConfig c = tiny_config();
  c.num_vqa_answers = 16;
  c.num_gqa_answers = 12;
  MultiTaskModel model(c);
  model->to(torch::kFloat64);
  model->eval();  // dropout off: the loss is a deterministic function of the weights
  for (const TaskSpec& spec : TaskCatalog::builtin().datasets()) {
    Batch b = random_batch(c, spec, 2, 6, 5, torch::kFloat64);
    const TaskKind& kind = kind_of(spec);
    auto loss = [&] { return kind.compute(*model, b).loss; };
    for (const auto& p : model->named_parameters()) {
      const bool head_weight = p.key().rfind(head_prefix(spec), 0) == 0 && p.value().dim() == 2;
      if (head_weight) expect_gradients_match(p.value(), loss, 3, spec.key + ": " + p.key());
    }
    expect_gradients_match(model->bert->encoder->c_layer[0]->as<CoAttentionLayer>()->biattention->key2->weight,
                           loss, 2, spec.key + ": trunk c_layer.0 key2");
  }
  Batch pre = random_batch(c, builtin_task("pretrain"), 2, 6, 5, torch::kFloat64);
  auto pretrain_loss = [&] { return pretrain_objective(*model, pre).loss; };
  expect_gradients_match(model->cls->predictions->transform->dense->weight, pretrain_loss, 3, "cls.predictions");
  expect_gradients_match(model->cls->imagePredictions->decoder->weight, pretrain_loss, 3, "cls.imagePredictions");
  expect_gradients_match(model->cls->bi_seq_relationship->weight, pretrain_loss, 3, "cls.bi_seq_relationship");
}

// train.init_from takes the trunk, the pretraining heads and the heads the earlier stage trained;
// the untrained heads a stage checkpoint also carries start fresh.
#include <gtest/gtest.h>

#include <set>

#include "ckpt/blob.h"
#include "model_fixtures.h"
#include "train/init_from.h"
#include "train/trainer_state.h"

using namespace vlmt;

namespace {

ckpt::CheckpointData checkpoint_of(const std::string& stage, const std::vector<std::string>& tasks) {
  MultiTaskModel model(vlmt::testing::tiny_config());
  ckpt::CheckpointData data;
  data.stage = stage;
  TrainerState state;
  state.stage = stage;
  for (const auto& t : tasks) state.streams[t] = StreamState{};
  data.trainer_state = ckpt::to_blob(state);
  for (const auto& p : model->named_parameters()) data.params.emplace_back(p.key(), p.value());
  return data;
}

std::set<std::string> modules_of(const ckpt::NamedTensors& tensors) {
  std::set<std::string> out;
  for (const auto& [name, t] : tensors) out.insert(name.substr(0, name.find('.')));
  return out;
}

}  // namespace

TEST(InitFrom, PretrainCheckpointGivesTheTrunkAndPretrainingHeadsOnly) {
  const auto data = checkpoint_of("pretrain", {"pretrain"});
  EXPECT_EQ(modules_of(trained_parameters(data, "p.h5")), (std::set<std::string>{"bert", "cls"}));
}

TEST(InitFrom, MultiTaskCheckpointGivesTheHeadsOfItsTasks) {
  const auto data = checkpoint_of("mt", {"vqa", "gqa", "refcoco", "visual7w"});
  const auto kept = trained_parameters(data, "mt.h5");
  EXPECT_EQ(modules_of(kept),
            (std::set<std::string>{"bert", "cls", "vil_prediction", "vil_prediction_gqa", "vision_logit"}));
  // Whole modules: every tensor of a kept module comes along, unchanged.
  size_t bert_tensors = 0;
  for (const auto& [name, t] : data.params) bert_tensors += name.rfind("bert.", 0) == 0;
  size_t kept_bert = 0;
  for (const auto& [name, t] : kept) kept_bert += name.rfind("bert.", 0) == 0;
  EXPECT_EQ(kept_bert, bert_tensors);
}

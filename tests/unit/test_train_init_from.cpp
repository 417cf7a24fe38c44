// train.init_from takes the trunk, the pretraining heads and the heads the earlier stage trained;
// the untrained heads a stage checkpoint also carries start fresh. Loading is strict: what the
// file lacks must be listed in train.init_expect_missing, and the answers stored with the file
// come along with the heads they belong to.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ckpt/blob.h"
#include "ckpt/checkpoint_file.h"
#include "ckpt/tensor_file.h"
#include "core/error.h"
#include "model_fixtures.h"
#include "test_ckpt_util.h"
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
  std::set<std::string> left_out;
  EXPECT_EQ(modules_of(trained_parameters(data, TaskCatalog::builtin(), left_out)), (std::set<std::string>{"bert", "cls"}));
}

TEST(InitFrom, MultiTaskCheckpointGivesTheHeadsOfItsTasks) {
  const auto data = checkpoint_of("mt", {"vqa", "gqa", "refcoco", "visual7w"});
  std::set<std::string> left_out;
  const auto kept = trained_parameters(data, TaskCatalog::builtin(), left_out);
  EXPECT_EQ(left_out, (std::set<std::string>{"linguisic_logit.", "vil_binary_prediction.", "vil_logit.",
                                             "vil_tri_prediction."}));
  EXPECT_EQ(modules_of(kept),
            (std::set<std::string>{"bert", "cls", "vil_prediction", "vil_prediction_gqa", "vision_logit"}));
  // Whole modules: every tensor of a kept module comes along, unchanged.
  size_t bert_tensors = 0;
  for (const auto& [name, t] : data.params) bert_tensors += name.rfind("bert.", 0) == 0;
  size_t kept_bert = 0;
  for (const auto& [name, t] : kept) kept_bert += name.rfind("bert.", 0) == 0;
  EXPECT_EQ(kept_bert, bert_tensors);
}

namespace {

// The tiny model's parameters as a parameter file, without the names starting with `drop`, plus
// `extra` tensors and stored answers.
std::string parameter_file(const std::string& dir, const std::vector<std::string>& drop,
                           const ckpt::NamedTensors& extra = {}, const ckpt::HeadAnswers& answers = {}) {
  MultiTaskModel model(vlmt::testing::tiny_config());
  ckpt::NamedTensors tensors;
  for (const auto& p : model->named_parameters()) {
    bool dropped = false;
    for (const auto& d : drop) dropped |= p.key().rfind(d, 0) == 0;
    if (!dropped) tensors.emplace_back(p.key(), p.value());
  }
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  const std::string path = dir + "/params.h5";
  ckpt::write_tensors(path, tensors, answers);
  return path;
}

const std::vector<std::string> kHeads = {"vil_", "vision_logit.", "linguisic_logit."};

}  // namespace

TEST(InitFrom, ParameterFileWithoutHeadsLoadsWhenHeadsAreExpectedMissing) {
  vlmt::ckpt::test_util::TempDir dir;
  const auto path = parameter_file(dir.str(), kHeads);
  MultiTaskModel model(vlmt::testing::tiny_config());
  const auto loaded = initialise_from(*model, path, kHeads);
  EXPECT_FALSE(loaded.empty());
  for (const auto& name : loaded) EXPECT_TRUE(name.rfind("bert.", 0) == 0 || name.rfind("cls.", 0) == 0) << name;
}

TEST(InitFrom, AMissingTrunkParameterIsAnErrorNamingItAndTheSetting) {
  vlmt::ckpt::test_util::TempDir dir;
  const auto path = parameter_file(dir.str(), {"bert.encoder.layer.0.attention.self.query.weight"});
  MultiTaskModel model(vlmt::testing::tiny_config());
  try {
    initialise_from(*model, path, kHeads);
    FAIL() << "a file without a trunk parameter loaded";
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("bert.encoder.layer.0.attention.self.query.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("train.init_expect_missing"), std::string::npos) << what;
    EXPECT_NE(what.find(path), std::string::npos) << what;
  }
  // Listed as expected, the same file loads.
  EXPECT_NO_THROW(initialise_from(*model, path, {"bert.encoder.layer.0."}));
}

TEST(InitFrom, AFileTensorTheModelLacksIsAnError) {
  vlmt::ckpt::test_util::TempDir dir;
  const auto path = parameter_file(dir.str(), {}, {{"bert.not_a_layer.weight", torch::zeros({2})}});
  MultiTaskModel model(vlmt::testing::tiny_config());
  EXPECT_THROW(initialise_from(*model, path, kHeads), CheckpointError);
}

TEST(InitFrom, StoredAnswersFollowTheHeadsThatWereLoaded) {
  vlmt::ckpt::test_util::TempDir dir;
  const auto config = vlmt::testing::tiny_config();
  std::vector<std::string> vqa(config.num_vqa_answers), gqa(config.num_gqa_answers);
  for (size_t i = 0; i < vqa.size(); ++i) vqa[i] = "answer " + std::to_string(i);
  for (size_t i = 0; i < gqa.size(); ++i) gqa[i] = "gqa " + std::to_string(i);
  // The GQA head is not in the file: its stored answers must not be taken.
  const auto path = parameter_file(dir.str(), {"vil_prediction_gqa."}, {},
                                   {{"vil_prediction", vqa}, {"vil_prediction_gqa", gqa}});
  MultiTaskModel model(config);
  initialise_from(*model, path, kHeads);
  EXPECT_EQ(model->provenance.head_answers.count("vil_prediction_gqa"), 0u);
  ASSERT_EQ(model->provenance.head_answers.count("vil_prediction"), 1u);
  EXPECT_EQ(model->provenance.head_answers.at("vil_prediction"), vqa);
  EXPECT_EQ(ckpt::read_head_answers(path).at("vil_prediction_gqa"), gqa);
}

namespace {

// A stage checkpoint of the tiny model (mt stage, VQA trained) written as the trainer writes it.
std::string stage_checkpoint(const std::string& dir, const std::string& trainer_state) {
  auto data = checkpoint_of("mt", {"vqa"});
  if (!trainer_state.empty()) data.trainer_state = trainer_state;
  return ckpt::write_checkpoint(dir, "latest", data);
}

}  // namespace

TEST(InitFrom, AStageCheckpointWithADamagedTrainerStateIsAnErrorNotAParameterFile) {
  vlmt::ckpt::test_util::TempDir dir;
  const auto path = stage_checkpoint(dir.str(), "");
  // One byte of the trainer state flipped: its checksum no longer matches.
  vlmt::ckpt::test_util::xor_byte(path, static_cast<std::streamoff>(vlmt::ckpt::test_util::dataset_offset(
                                            path, "/trainer_state")) + 3);
  MultiTaskModel model(vlmt::testing::tiny_config());
  const std::string what =
      vlmt::ckpt::test_util::checkpoint_error([&] { initialise_from(*model, path, kHeads); });
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("trainer_state"), std::string::npos) << what;
}

TEST(InitFrom, AStageCheckpointWhoseTrainerStateDoesNotDecodeNamesTheFile) {
  vlmt::ckpt::test_util::TempDir dir;
  const auto path = stage_checkpoint(dir.str(), "not a trainer state");  // its checksum is right
  MultiTaskModel model(vlmt::testing::tiny_config());
  const std::string what =
      vlmt::ckpt::test_util::checkpoint_error([&] { initialise_from(*model, path, kHeads); });
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("trainer state"), std::string::npos) << what;
}

TEST(InitFrom, OnlyAFileThatIsNoStageCheckpointLoadsAsParameters) {
  vlmt::ckpt::test_util::TempDir dir;
  EXPECT_FALSE(ckpt::is_checkpoint_file(parameter_file(dir.str(), {})));
  const auto path = stage_checkpoint(dir.str(), "");
  EXPECT_TRUE(ckpt::is_checkpoint_file(path));
  MultiTaskModel model(vlmt::testing::tiny_config());
  const auto loaded = initialise_from(*model, path, kHeads);
  // The VQA head its stage trained comes along; a head it did not train (it had VQA only) does not.
  const auto loaded_from = [&](const std::string& prefix) {
    return std::any_of(loaded.begin(), loaded.end(), [&](const std::string& n) { return n.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(loaded_from("vil_prediction."));
  EXPECT_FALSE(loaded_from("vil_logit."));
}

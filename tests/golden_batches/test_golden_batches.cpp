// Golden batches (tools/dev/golden/make_golden_batches.py ran the released dataset classes over the
// miniature released download of tests/integration/make_release_world.py; its output is in
// tests/data/golden_batches): vlmt's datasets, built from the same download as a user converts
// it (tests/integration/test_golden_batches.sh prepares the data root and runs this binary),
// must give every tensor the released __getitem__ gives for the same items — integer tensors
// exactly, float tensors within 1e-6 of the tensor's largest entry, no tensor or item missing on
// either side. Random draws (retrieval's negatives, pretraining's caption swap and masking) are
// the released ones, replayed through data/draws.h; a draw vlmt asks for differently (another
// kind, another range) fails the case.
//
// What is compared is the released tuple laid out as vlmt's Batch (tests/common/released_batch.h),
// with two documented exceptions:
//  - co_attention_mask: the released readers return zeros the model never reads; vlmt has no such
//    input, so the golden one must be all zero.
//  - retrieval option 3 (a random other image with the item's caption): retreival_dataset.py
//    writes the other image into the arrays that still hold option 1's regions, so its padded
//    slots keep option 1's features and boxes behind a zero image mask. Those slots are compared
//    as zeros (vlmt's padding); every unmasked slot is compared as it is.
// Environment: VLMT_GOLDEN_BATCH_ROOT (the converted data root), VLMT_GOLDEN_BATCH_SETTINGS (a
// file of --set style overrides: the tasks' feature files and the world's model sizes).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ckpt/tensor_file.h"
#include "config/run_config.h"
#include "core/hdf5_util.h"
#include "data/sampler.h"
#include "data/task_dataset.h"
#include "released_batch.h"
#include "tasks/task_data.h"
#include "test_paths.h"

using namespace vlmt;

namespace {

const std::string kGolden = std::string(VLMT_TEST_DATA) + "/golden_batches/";
constexpr double kRelTol = 1e-6;

std::string env_or_fail(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    throw std::runtime_error(std::string(name) + " is not set: run tests/integration/test_golden_batches.sh");
  return v;
}

const RunConfig& config() {
  static const RunConfig cfg = [] {
    std::vector<std::string> sets = {"data.root=" + env_or_fail("VLMT_GOLDEN_BATCH_ROOT")};
    std::ifstream in(env_or_fail("VLMT_GOLDEN_BATCH_SETTINGS"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) sets.push_back(line);
    return load_run_config("", sets);
  }();
  return cfg;
}

nlohmann::json golden_meta() {
  std::ifstream in(kGolden + "meta.json");
  return nlohmann::json::parse(in);
}

struct Case {
  std::string name;  // the group: vlmt's split, or test_scoring
  nlohmann::json meta;
  released::Tensors tensors;
};

std::vector<Case> read_cases(const std::string& task) {
  const std::string path = kGolden + task + ".h5";
  h5::Handle file = h5::open_file_readonly(path);
  std::vector<Case> out;
  for (const std::string& name : h5::child_names(file.get(), path)) {
    Case c;
    c.name = name;
    h5::Handle group = h5::open_group(file.get(), name, path);
    c.meta = nlohmann::json::parse(h5::read_string_attr(group.get(), "meta", path + ":" + name));
    for (auto& [tensor, value] : ckpt::read_tensors(group.get(), path + ":" + name)) c.tensors[tensor] = value;
    out.push_back(std::move(c));
  }
  return out;
}

// The released code's draws of the chosen items, in order; a draw vlmt asks for differently
// throws, naming the draw.
class ReplayDraws : public Draws {
 public:
  explicit ReplayDraws(const nlohmann::json& per_item) {
    for (const auto& item : per_item)
      for (const auto& d : item) draws_.push_back(d);
  }
  double uniform() override {
    const auto& d = take("a uniform number");
    if (d.at(0) != "u") throw mismatch("a uniform number", d);
    return d.at(1).get<double>();
  }
  int64_t index(int64_t n) override {
    const auto& d = take("an index in [0, " + std::to_string(n) + ")");
    if (d.at(0) != "i" || d.at(1).get<int64_t>() != n) throw mismatch("an index in [0, " + std::to_string(n) + ")", d);
    return d.at(2).get<int64_t>();
  }
  size_t left() const { return draws_.size() - next_; }

 private:
  const nlohmann::json& take(const std::string& what) {
    if (next_ >= draws_.size())
      throw std::runtime_error("vlmt asks for " + what + " after the released code's " +
                               std::to_string(draws_.size()) + " draws");
    return draws_[next_++];
  }
  std::runtime_error mismatch(const std::string& what, const nlohmann::json& d) const {
    return std::runtime_error("draw " + std::to_string(next_ - 1) + ": vlmt asks for " + what +
                              ", the released code drew " + d.dump());
  }
  std::vector<nlohmann::json> draws_;
  size_t next_ = 0;
};

void expect_equal(const torch::Tensor& mine, const torch::Tensor& golden, const std::string& what) {
  ASSERT_TRUE(mine.defined()) << what << ": vlmt's batch has no such tensor";
  ASSERT_TRUE(golden.defined()) << what << ": the released batch has no such tensor";
  ASSERT_EQ(mine.sizes(), golden.sizes()) << what;
  if (golden.is_floating_point()) {
    const auto g = golden.to(torch::kDouble), m = mine.to(torch::kDouble);
    const double scale = g.abs().max().item<double>();
    const auto diff = (m - g).abs();
    const double err = diff.max().item<double>();
    EXPECT_LE(err, kRelTol * scale + 1e-12)
        << what << ": max difference " << err << " (largest entry " << scale << ") at flat index "
        << diff.flatten().argmax().item<int64_t>();
  } else {
    const auto differ = mine.to(torch::kInt64).ne(golden.to(torch::kInt64));
    EXPECT_EQ(differ.sum().item<int64_t>(), 0)
        << what << ": " << differ.sum().item<int64_t>() << " entries differ, first at flat index "
        << differ.flatten().to(torch::kInt64).argmax().item<int64_t>() << "\n  vlmt:     "
        << mine.flatten().slice(0, 0, 40) << "\n  released: " << golden.flatten().slice(0, 0, 40);
  }
}

// Every model input and target of `released` against vlmt's batch.
void expect_same_batch(const Batch& mine, const Batch& golden, const std::string& where) {
  EXPECT_EQ(mine.size, golden.size) << where;
  EXPECT_EQ(mine.rows_per_item, golden.rows_per_item) << where;
  expect_equal(mine.input_ids, golden.input_ids, where + " token ids");
  expect_equal(mine.segment_ids, golden.segment_ids, where + " segment ids");
  expect_equal(mine.text_mask, golden.text_mask, where + " input mask");
  expect_equal(mine.features, golden.features, where + " features");
  expect_equal(mine.spatials, golden.spatials, where + " spatials");
  expect_equal(mine.image_mask, golden.image_mask, where + " image mask");
  if (golden.target.defined()) expect_equal(mine.target, golden.target, where + " target");
  if (golden.choice_ids.defined()) expect_equal(mine.choice_ids, golden.choice_ids, where + " candidate ids");
  if (golden.lm_labels.defined()) {
    expect_equal(mine.lm_labels, golden.lm_labels, where + " masked-word labels");
    expect_equal(mine.region_targets, golden.region_targets, where + " region targets");
    expect_equal(mine.region_masked, golden.region_masked, where + " masked regions");
    expect_equal(mine.is_aligned, golden.is_aligned, where + " alignment");
  }
}

// The items' identities: vlmt's item and image ids against the released entries'.
void expect_same_items(const Batch& b, const nlohmann::json& items, const std::string& where) {
  ASSERT_EQ(static_cast<int64_t>(items.size()), b.size) << where;
  for (int64_t k = 0; k < b.size; ++k) {
    const auto& item = items[k];
    if (!item.at("item_id").is_null()) EXPECT_EQ(b.item_ids.at(k), item["item_id"].get<std::string>()) << where << " item " << k;
    if (item.contains("image_ids")) {
      for (int side = 0; side < 2; ++side)
        EXPECT_EQ(b.image_ids.at(2 * k + side), item["image_ids"][side].get<std::string>()) << where << " item " << k;
    } else {
      EXPECT_EQ(b.image_ids.at(k * b.rows_per_item), item.at("image_id").get<std::string>()) << where << " item " << k;
    }
  }
}

// retreival_dataset.py's option 3 keeps option 1's regions in its padded slots (see the header).
void zero_option3_padding(Batch& golden) {
  for (int64_t k = 0; k < golden.size; ++k) {
    const int64_t row = k * golden.rows_per_item + 2;
    const auto padded = golden.image_mask[row].eq(0);
    golden.features[row].masked_fill_(padded.unsqueeze(1), 0.0);
    golden.spatials[row].masked_fill_(padded.unsqueeze(1), 0.0);
  }
}

std::unique_ptr<TaskDataset> open_dataset(const std::string& task, const std::string& split) {
  const RunConfig& cfg = config();
  if (task == TaskCatalog::builtin().pretraining().key) return make_pretrain_dataset(split, cfg.data, cfg.train, cfg.model);
  return make_task_dataset(builtin_task(task), split, cfg.data, cfg.tasks.of(task), cfg.model, cfg.train);
}

void compare_case(const std::string& task, const Case& c) {
  const std::string where = task + "/" + c.name;
  SCOPED_TRACE(where);
  // The released task settings (vilbert_tasks.yml, concept_cap_dataset.py) are vlmt's defaults.
  const auto ds = open_dataset(task, c.meta.at("split"));
  EXPECT_EQ(ds->context().max_text, c.meta.at("max_text").get<int>()) << where;
  EXPECT_EQ(ds->context().max_regions, c.meta.at("max_regions").get<int>()) << where;
  EXPECT_EQ(ds->size(), c.meta.at("size").get<int64_t>()) << where << ": the released dataset has another size";
  const TaskSpec& spec = builtin_task(task);
  Batch golden = task == TaskCatalog::builtin().pretraining().key ? released::to_pretrain_batch(c.tensors, "", torch::kFloat)
                                                : released::to_batch(c.tensors, "", spec, torch::kFloat);
  if (c.tensors.count("co_attention_mask"))
    EXPECT_EQ(c.tensors.at("co_attention_mask").abs().max().item<double>(), 0.0) << where;
  if (spec.kind_name == "VL-logit") zero_option3_padding(golden);
  ReplayDraws draws(c.meta.at("draws"));
  Batch mine;
  try {
    mine = ds->get_batch(c.meta.at("indices").get<std::vector<int64_t>>(), draws);
  } catch (const std::exception& e) {
    FAIL() << where << ": " << e.what();
  }
  EXPECT_EQ(draws.left(), 0u) << where << ": vlmt used fewer draws than the released code";
  expect_same_items(mine, c.meta.at("items"), where);
  expect_same_batch(mine, golden, where);
}

// RetreivalDatasetVal: the text row of every caption of the test file and the region row of
// every image (vlmt's RetrievalScoring, which retrieval evaluation encodes once each).
void compare_scoring(const std::string& task, const Case& c) {
  const std::string where = task + "/" + c.name;
  SCOPED_TRACE(where);
  const auto ds = open_dataset(task, c.meta.at("split"));
  const auto* scoring = dynamic_cast<const RetrievalScoring*>(ds.get());
  ASSERT_NE(scoring, nullptr) << where;
  EXPECT_EQ(scoring->split_images(), c.meta.at("images").get<std::vector<std::string>>()) << where;
  std::vector<int64_t> captions(static_cast<size_t>(ds->size()));
  std::iota(captions.begin(), captions.end(), 0);
  const Batch text = scoring->caption_rows(captions);
  EXPECT_EQ(text.image_ids, c.meta.at("caption_images").get<std::vector<std::string>>()) << where;
  expect_equal(text.input_ids, c.tensors.at("question"), where + " token ids");
  expect_equal(text.text_mask, c.tensors.at("input_mask"), where + " input mask");
  expect_equal(text.segment_ids, c.tensors.at("segment_ids"), where + " segment ids");
  const Batch images = scoring->image_rows(scoring->split_images());
  expect_equal(images.features, c.tensors.at("features"), where + " features");
  expect_equal(images.spatials, c.tensors.at("spatials"), where + " spatials");
  expect_equal(images.image_mask, c.tensors.at("image_mask"), where + " image mask");
}

class GoldenBatches : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenBatches, EveryTensorAsTheReleasedDatasetBuildsIt) {
  const std::string task = GetParam();
  const auto cases = read_cases(task);
  ASSERT_FALSE(cases.empty()) << task;
  for (const Case& c : cases) {
    if (c.name == "test_scoring") compare_scoring(task, c);
    else compare_case(task, c);
  }
}

std::vector<std::string> golden_tasks() {
  std::vector<std::string> out;
  for (const TaskSpec& spec : TaskCatalog::builtin().datasets())
    if (spec.builtin()) out.push_back(spec.key);
  out.push_back(TaskCatalog::builtin().pretraining().key);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllTasksAndPretraining, GoldenBatches, ::testing::ValuesIn(golden_tasks()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

// The released DataLoaders keep the last partial batch: an epoch is ceil(items / batch) batches
// per rank, after DistributedSampler pads the items to a multiple of the ranks. vlmt's default
// sampler gives the same count for every (items, ranks, per-rank batch) they recorded.
TEST(GoldenBatches, BatchesPerEpochAsTheReleasedDataLoaders) {
  const TrainConfig defaults;
  const nlohmann::json meta = golden_meta();
  int64_t checked = 0;
  for (const auto& [task, records] : meta.at("batches_per_epoch").items()) {
    for (const auto& r : records) {
      const int ranks = r.at("ranks");
      const DistributedSampler sampler(r.at("items"), r.at("rank_batch"), ranks - 1, ranks, 1, /*shuffle=*/true,
                                       defaults.drop_last);
      EXPECT_EQ(sampler.batches_per_epoch(), r.at("batches").get<int64_t>()) << task << " " << r.dump();
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

// Every golden file is compared: one per built-in task and pretraining.
TEST(GoldenBatches, CoverEveryTaskAndPretraining) {
  for (const std::string& task : golden_tasks()) {
    std::ifstream f(kGolden + task + ".h5");
    EXPECT_TRUE(f.good()) << kGolden << task << ".h5 is missing";
  }
  EXPECT_FALSE(golden_meta().at("released_commit").get<std::string>().empty());
}

}  // namespace

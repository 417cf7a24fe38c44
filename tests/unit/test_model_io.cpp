// Parameters through the HDF5 parameter file, and forward_dump against the in-process model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ckpt/param_io.h"
#include "ckpt/tensor_file.h"
#include "model/multitask_model.h"
#include "model_fixtures.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using namespace vlmt;
using vlmt::testing::random_batch;
using vlmt::testing::tiny_config;

namespace {
fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
}  // namespace

TEST(ModelIO, SaveLoadGivesIdenticalForward) {
  const auto dir = temp_dir("vlmt_model_io");
  ModelConfig c = tiny_config();
  torch::manual_seed(21);
  MultiTaskModel a(c);
  torch::manual_seed(22);
  MultiTaskModel b(c);
  a->eval();
  b->eval();
  Batch batch = random_batch(c, builtin_task("vqa"), 3);
  ASSERT_FALSE(torch::allclose(a->forward(batch).fused, b->forward(batch).fused));
  ckpt::save_parameters(*a, (dir / "a.h5").string());
  auto report = ckpt::load_parameters(*b, (dir / "a.h5").string(), /*allow_partial=*/false);
  EXPECT_TRUE(report.complete());
  for (const auto& task : {"vqa", "refcoco", "nlvr2", "retrieval_coco"}) {
    Batch x = random_batch(c, builtin_task(task), 2);
    auto oa = a->forward(x), ob = b->forward(x);
    EXPECT_TRUE(torch::equal(oa.fused, ob.fused)) << task;
    EXPECT_TRUE(torch::equal(oa.trunk.image, ob.trunk.image)) << task;
  }
  // The tie survives loading.
  EXPECT_EQ(b->cls->predictions->decoder_weight.data_ptr(), b->bert->embeddings->word_embeddings->weight.data_ptr());
  fs::remove_all(dir);
}

TEST(ModelIO, ForwardDumpMatchesTheModel) {
  const auto dir = temp_dir("vlmt_forward_dump");
  ModelConfig c = tiny_config();
  torch::manual_seed(23);
  MultiTaskModel model(c);
  model->eval();
  ckpt::save_parameters(*model, (dir / "params.h5").string());
  Batch b = random_batch(c, builtin_task("vqa"), 4);
  ckpt::write_tensors((dir / "in.h5").string(),
                      {{"input_ids", b.input_ids}, {"segment_ids", b.segment_ids}, {"text_mask", b.text_mask},
                       {"features", b.features}, {"spatials", b.spatials}, {"image_mask", b.image_mask},
                       {"task_ids", torch::full({4}, 1, torch::kInt64)}});
  const std::string cmd = std::string(VLMT_BIN_DIR) + "/forward_dump --params " + (dir / "params.h5").string() +
                          " --preset " + VLMT_SOURCE_DIR + "/configs/model/tiny.toml --inputs " +
                          (dir / "in.h5").string() + " --out " + (dir / "out.h5").string() + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, t] : ckpt::read_tensors((dir / "out.h5").string())) out[name] = t;
  torch::NoGradGuard no_grad;
  auto expected = model->forward(b);  // task "vqa" = task id 1 on every row
  EXPECT_TRUE(torch::allclose(out.at("fused"), expected.fused, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(out.at("vil_prediction"), model->vqa_logits(expected), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(out.at("vision_logit"), model->region_logits(expected, b.image_mask), 1e-4, 1e-5));
  EXPECT_EQ(out.at("vil_binary_prediction").sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(out.count("sequence_text"), 1u);
  // A missing input is named.
  ckpt::write_tensors((dir / "bad.h5").string(), {{"input_ids", b.input_ids}});
  const std::string bad = std::string(VLMT_BIN_DIR) + "/forward_dump --params " + (dir / "params.h5").string() +
                          " --preset tiny --inputs " + (dir / "bad.h5").string() + " --out " +
                          (dir / "o2.h5").string() + " > " + (dir / "err.txt").string() + " 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 3);
  std::ifstream err(dir / "err.txt");
  std::string text((std::istreambuf_iterator<char>(err)), {});
  EXPECT_NE(text.find("segment_ids"), std::string::npos) << text;
  fs::remove_all(dir);
}

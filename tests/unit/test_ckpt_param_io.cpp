// Parameter files: save -> load of a module with a tied parameter and buffers, and the load
// report for missing, unexpected and mis-shaped names.
#include <gtest/gtest.h>

#include <algorithm>

#include "ckpt/param_io.h"
#include "core/error.h"
#include "test_ckpt_util.h"

namespace vlmt::ckpt {
namespace {

using test_util::checkpoint_error;
using test_util::TempDir;

// Shares its weight with the embedding, like ViLBERT's masked-word decoder.
struct TiedDecoder : torch::nn::Module {
  explicit TiedDecoder(const torch::Tensor& tied) {
    weight = register_parameter("weight", tied);
    bias = register_parameter("bias", torch::randn({6}));
  }
  torch::Tensor weight, bias;
};

struct TiedNet : torch::nn::Module {
  TiedNet() {
    embed = register_module("embed", torch::nn::Embedding(6, 4));
    norm = register_module("norm", torch::nn::BatchNorm1d(4));  // has float and int64 buffers
    decoder = register_module("decoder", std::make_shared<TiedDecoder>(embed->weight));
  }
  torch::nn::Embedding embed{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
  std::shared_ptr<TiedDecoder> decoder;
};

std::shared_ptr<TiedNet> make_net(uint64_t seed) {
  torch::manual_seed(seed);
  auto net = std::make_shared<TiedNet>();
  torch::NoGradGuard no_grad;
  net->norm->running_mean.normal_();
  net->norm->num_batches_tracked.fill_(static_cast<int64_t>(seed));
  return net;
}

TEST(CkptParamIo, SaveLoadRestoresEveryTensorAndKeepsTheTie) {
  TempDir dir;
  auto source = make_net(1);
  save_parameters(*source, dir.file("p.h5"));

  NamedTensors stored = read_tensors(dir.file("p.h5"));
  std::vector<std::string> names;
  for (const auto& [name, t] : stored) names.push_back(name);
  EXPECT_NE(std::find(names.begin(), names.end(), "embed.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "decoder.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "norm.num_batches_tracked"), names.end());

  auto target = make_net(2);
  ASSERT_FALSE(torch::equal(target->embed->weight, source->embed->weight));
  LoadReport report = load_parameters(*target, dir.file("p.h5"), /*allow_partial=*/false);
  EXPECT_TRUE(report.complete()) << report.summary();
  EXPECT_EQ(report.loaded.size(), stored.size());
  for (const auto& [name, t] : module_tensors(*source)) {
    SCOPED_TRACE(name);
    auto found = std::find_if(stored.begin(), stored.end(),
                              [&](const auto& s) { return s.first == name; });
    ASSERT_NE(found, stored.end());
  }
  auto source_tensors = module_tensors(*source), target_tensors = module_tensors(*target);
  ASSERT_EQ(source_tensors.size(), target_tensors.size());
  for (size_t i = 0; i < source_tensors.size(); ++i) {
    EXPECT_EQ(source_tensors[i].first, target_tensors[i].first);
    EXPECT_TRUE(torch::equal(source_tensors[i].second, target_tensors[i].second))
        << source_tensors[i].first;
  }
  // The tie is a property of the module; loading must not break it.
  EXPECT_EQ(target->decoder->weight.data_ptr(), target->embed->weight.data_ptr());
}

// A file that differs from TiedNet: one name missing, one extra, one wrongly shaped.
void write_mismatched_file(const std::string& path) {
  auto net = make_net(5);
  NamedTensors tensors;
  for (auto& [name, t] : module_tensors(*net)) {
    if (name == "norm.running_var") continue;  // missing
    if (name == "decoder.bias") {
      tensors.emplace_back(name, torch::zeros({7}));  // mis-shaped
      continue;
    }
    tensors.emplace_back(name, t);
  }
  tensors.emplace_back("pooler.dense.weight", torch::zeros({2, 2}));  // unexpected
  write_tensors(path, tensors);
}

TEST(CkptParamIo, StrictLoadListsEveryProblemAndChangesNothing) {
  TempDir dir;
  write_mismatched_file(dir.file("bad.h5"));
  auto net = make_net(9);
  torch::Tensor before = net->embed->weight.clone();
  std::string message = checkpoint_error(
      [&] { load_parameters(*net, dir.file("bad.h5"), /*allow_partial=*/false); });
  EXPECT_NE(message.find("norm.running_var"), std::string::npos) << message;
  EXPECT_NE(message.find("pooler.dense.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("decoder.bias: model (6,), file (7,)"), std::string::npos) << message;
  EXPECT_TRUE(torch::equal(net->embed->weight, before));
}

TEST(CkptParamIo, PartialLoadCopiesTheRestAndReports) {
  TempDir dir;
  write_mismatched_file(dir.file("bad.h5"));
  auto net = make_net(9);
  torch::Tensor bias_before = net->decoder->bias.clone();
  LoadReport report = load_parameters(*net, dir.file("bad.h5"), /*allow_partial=*/true);
  EXPECT_EQ(report.missing, std::vector<std::string>{"norm.running_var"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"pooler.dense.weight"});
  ASSERT_EQ(report.mismatched.size(), 1u);
  EXPECT_EQ(report.mismatched[0].name, "decoder.bias");
  EXPECT_TRUE(torch::equal(net->decoder->bias, bias_before));  // mis-shaped: left alone
  EXPECT_TRUE(torch::equal(net->embed->weight, make_net(5)->embed->weight));
}

TEST(CkptParamIo, RenameHookMapsAndDropsFileNames) {
  TempDir dir;
  auto net = make_net(4);
  NamedTensors prefixed;
  for (auto& [name, t] : module_tensors(*net)) prefixed.emplace_back("module." + name, t);
  prefixed.emplace_back("module.ignored", torch::ones({1}));
  write_tensors(dir.file("dp.h5"), prefixed);
  auto strip = [](const std::string& n) {
    return n == "module.ignored" ? std::string() : n.substr(std::string("module.").size());
  };
  auto target = make_net(8);
  LoadReport report = load_parameters(*target, dir.file("dp.h5"), false, strip);
  EXPECT_TRUE(report.complete()) << report.summary();
  EXPECT_EQ(report.dropped, std::vector<std::string>{"module.ignored"});
  EXPECT_TRUE(torch::equal(target->norm->running_mean, net->norm->running_mean));
}

}  // namespace
}  // namespace vlmt::ckpt

// BERT import: the name mapping, and the import_bert tool end to end on a synthetic
// safetensors file written here.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "ckpt/bert_import.h"
#include "ckpt/safetensors.h"
#include "ckpt/tensor_file.h"
#include "test_ckpt_util.h"
#include "test_paths.h"

namespace vlmt::ckpt {
namespace {

using test_util::TempDir;

TEST(CkptBertImport, MapsHuggingFaceNamesOntoViLBERTNames) {
  auto target = [](const std::string& n) { return map_bert_name(n).target; };
  EXPECT_EQ(target("bert.embeddings.word_embeddings.weight"),
            "bert.embeddings.word_embeddings.weight");
  EXPECT_EQ(target("embeddings.position_embeddings.weight"),
            "bert.embeddings.position_embeddings.weight");
  EXPECT_EQ(target("bert.embeddings.LayerNorm.gamma"), "bert.embeddings.LayerNorm.weight");
  EXPECT_EQ(target("encoder.layer.11.attention.self.value.bias"),
            "bert.encoder.layer.11.attention.self.value.bias");
  EXPECT_EQ(target("bert.encoder.layer.3.attention.output.LayerNorm.beta"),
            "bert.encoder.layer.3.attention.output.LayerNorm.bias");
  EXPECT_EQ(target("bert.encoder.layer.0.intermediate.dense.weight"),
            "bert.encoder.layer.0.intermediate.dense.weight");
  EXPECT_EQ(target("bert.encoder.layer.0.output.LayerNorm.weight"),
            "bert.encoder.layer.0.output.LayerNorm.weight");
  EXPECT_EQ(target("cls.predictions.transform.LayerNorm.gamma"),
            "cls.predictions.transform.LayerNorm.weight");
  EXPECT_EQ(target("cls.predictions.bias"), "cls.predictions.bias");

  for (const char* dropped : {"bert.pooler.dense.weight", "pooler.dense.bias",
                              "cls.seq_relationship.weight", "bert.embeddings.position_ids",
                              "cls.predictions.decoder.bias"}) {
    BertNameMapping m = map_bert_name(dropped);
    EXPECT_TRUE(m.known) << dropped;
    EXPECT_TRUE(m.target.empty()) << dropped;
    EXPECT_FALSE(m.reason.empty()) << dropped;
  }
  for (const char* unknown : {"bert.encoder.layer.0.attention.self.query.kernel",
                              "roberta.embeddings.word_embeddings.weight",
                              "bert.encoder.layer.x.output.dense.weight"}) {
    EXPECT_FALSE(map_bert_name(unknown).known) << unknown;
  }
}

// A 1-layer BERT for pre-training as a Hugging Face checkpoint might store it (safetensors
// keeps the tied decoder weight only once).
NamedTensors synthetic_bert() {
  torch::manual_seed(11);
  return {{"bert.embeddings.word_embeddings.weight", torch::randn({10, 4})},
          {"bert.embeddings.position_embeddings.weight", torch::randn({6, 4})},
          {"bert.embeddings.token_type_embeddings.weight", torch::randn({2, 4})},
          {"bert.embeddings.LayerNorm.gamma", torch::ones({4})},
          {"bert.embeddings.LayerNorm.beta", torch::zeros({4})},
          {"bert.embeddings.position_ids", torch::arange(6, torch::kInt64).unsqueeze(0)},
          {"bert.encoder.layer.0.attention.self.query.weight", torch::randn({4, 4})},
          {"bert.encoder.layer.0.attention.self.query.bias", torch::randn({4})},
          {"bert.encoder.layer.0.output.dense.weight", torch::randn({4, 8}).to(torch::kFloat16)},
          {"bert.pooler.dense.weight", torch::randn({4, 4})},
          {"cls.predictions.bias", torch::randn({10})},
          {"cls.seq_relationship.weight", torch::randn({2, 4})}};
}

TEST(CkptBertImport, ImportMapsDropsAndAddsTheTiedDecoder) {
  BertImport result = import_bert_tensors(synthetic_bert());
  EXPECT_TRUE(result.unknown.empty());
  EXPECT_EQ(result.dropped.size(), 3u);  // position_ids, pooler, NSP
  std::map<std::string, torch::Tensor> mapped(result.mapped.begin(), result.mapped.end());
  EXPECT_EQ(mapped.size(), 10u);  // 9 mapped + the tied decoder
  EXPECT_TRUE(mapped.count("bert.embeddings.LayerNorm.weight"));
  ASSERT_TRUE(mapped.count("cls.predictions.decoder.weight"));
  EXPECT_TRUE(torch::equal(mapped.at("cls.predictions.decoder.weight"),
                           mapped.at("bert.embeddings.word_embeddings.weight")));
  EXPECT_EQ(result.notes.size(), 1u);
}

int run(const std::string& command) {
  int status = std::system((command + " > /dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CkptBertImport, ToolWritesAParameterFileAndRefusesUnknownNames) {
  TempDir dir;
  const std::string tool = std::string(VLMT_BIN_DIR) + "/import_bert";
  write_safetensors(dir.file("bert.safetensors"), synthetic_bert());
  ASSERT_EQ(run(tool + " --safetensors " + dir.file("bert.safetensors") + " --out " +
                dir.file("bert_init.h5")),
            0);
  NamedTensors out = read_tensors(dir.file("bert_init.h5"));
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(out[0].first, "bert.embeddings.word_embeddings.weight");
  auto half = std::find_if(out.begin(), out.end(), [](const auto& t) {
    return t.first == "bert.encoder.layer.0.output.dense.weight";
  });
  ASSERT_NE(half, out.end());
  EXPECT_EQ(half->second.scalar_type(), torch::kFloat16);  // dtype preserved

  NamedTensors with_unknown = synthetic_bert();
  with_unknown.emplace_back("bert.mystery.weight", torch::ones({1}));
  write_safetensors(dir.file("odd.safetensors"), with_unknown);
  std::string base = tool + " --safetensors " + dir.file("odd.safetensors") + " --out " +
                     dir.file("odd.h5");
  EXPECT_EQ(run(base), 4);
  EXPECT_FALSE(std::filesystem::exists(dir.file("odd.h5")));
  EXPECT_EQ(run(base + " --allow-partial"), 0);
  EXPECT_EQ(read_tensors(dir.file("odd.h5")).size(), 10u);
}

}  // namespace
}  // namespace vlmt::ckpt

#pragma once
// The model's configuration (configs/model/<preset>.toml, `[model]` of a run file): plain values,
// without TOML, so that model headers need not include the parser. config/run_config.h reads
// and validates it.
#include <cstdint>
#include <string>
#include <vector>

namespace vlmt {

enum class TaskTokenMode { kPerDataset, kPerHead, kNone };

struct ModelConfig {
  std::string preset = "base";
  // Text stream (BERT-base).
  int vocab_size = 30522;
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  // Visual stream.
  int v_feature_size = 2048;
  int v_target_size = 1601;
  int v_hidden_size = 1024;
  int v_num_hidden_layers = 6;
  int v_num_attention_heads = 8;
  int v_intermediate_size = 1024;
  // Co-attention.
  int bi_hidden_size = 1024;
  int bi_num_attention_heads = 8;
  int bi_intermediate_size = 1024;
  std::vector<int64_t> v_biattention_id = {0, 1, 2, 3, 4, 5};
  std::vector<int64_t> t_biattention_id = {6, 7, 8, 9, 10, 11};
  // Regularisation and numerics.
  double hidden_dropout = 0.1;
  double attention_dropout = 0.1;
  double v_hidden_dropout = 0.1;
  double v_attention_dropout = 0.1;
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  // Heads.
  TaskTokenMode task_token = TaskTokenMode::kPerDataset;
  int num_vqa_answers = 3129;
  int num_gqa_answers = 1533;
};

std::string task_token_mode_name(TaskTokenMode mode);

}  // namespace vlmt

#include "train/memory_estimate.h"

namespace vlmt {
namespace {

// One transformer layer over n tokens (memory_estimate.h has the terms).
double self_attention_layer(double e, double n, double hidden, double ffn, double heads) {
  return (8 * e + 2) * n * hidden + 2 * e * n * ffn + (2 * e + 1) * heads * n * n;
}

}  // namespace

double optimiser_state_bytes(int64_t params) { return 16.0 * static_cast<double>(params); }

double activation_bytes(const ModelConfig& m, int64_t rows, int64_t text_len, int64_t regions, bool bf16) {
  const double e = bf16 ? 2 : 4;
  const double nt = static_cast<double>(text_len), nv = static_cast<double>(regions);
  double per_row = (2 * e + 1) * (nt * m.hidden_size + nv * m.v_hidden_size);  // embeddings
  per_row += m.num_hidden_layers *
             self_attention_layer(e, nt, m.hidden_size, m.intermediate_size, m.num_attention_heads);
  per_row += m.v_num_hidden_layers *
             self_attention_layer(e, nv, m.v_hidden_size, m.v_intermediate_size, m.v_num_attention_heads);
  const double co_side_text = (5 * e + 2) * nt * m.hidden_size + 4 * e * nt * m.bi_hidden_size +
                              2 * e * nt * m.intermediate_size;
  const double co_side_image = (5 * e + 2) * nv * m.v_hidden_size + 4 * e * nv * m.bi_hidden_size +
                               2 * e * nv * m.v_intermediate_size;
  const double co_scores = 2 * (2 * e + 1) * m.bi_num_attention_heads * nt * nv;
  per_row += static_cast<double>(m.v_biattention_id.size()) * (co_side_text + co_side_image + co_scores);
  return per_row * static_cast<double>(rows);
}

}  // namespace vlmt

#pragma once
// Memory of one training rank, estimated from the shapes (used by --plan): the optimiser's
// per-parameter state and the activations one task's step keeps for its backward pass. The
// formulas (docs/PLAN.md shows them with the base preset's numbers):
//
//   state      = 16 · P bytes: float32 weights, gradients and AdamW's two moments (bf16 autocast
//                keeps float32 master weights, so the same);
//   activations of one step = rows · Σ_layers a_layer, with e bytes per element (4 float32,
//                2 under bf16 autocast) and 1 byte per dropout-mask element:
//     self-attention layer, n tokens of width h, FFN width i, a heads:
//                (8e + 2)·n·h + 2e·n·i + (2e + 1)·a·n²
//                (input, Q, K, V, context, two LayerNorm inputs, FFN input; two dropout masks;
//                 GELU input and output; softmax output, its dropout mask and output)
//     co-attention layer (text n_t, regions n_v, width b, a_b heads), both directions:
//                Σ_side [(5e + 2)·n·h_side + 4e·n·b + 2e·n·i_side] + 2·(2e + 1)·a_b·n_t·n_v
//     embeddings: (2e + 1)·(n_t·h_t + n_v·h_v)
//   Peak per rank ≈ state + the largest task's activations + the gradient buckets in flight
//   (2 × dist.bucket_mb) — the tasks of an iteration step one after the other, and each frees its
//   graph before the next. Allocator caching and LibTorch's workspace come on top.
#include <cstdint>

#include "config/model_config.h"

namespace vlmt {

// Bytes of weights, gradients and AdamW moments for `params` float32 parameters.
double optimiser_state_bytes(int64_t params);

// Bytes one step keeps for backward: `rows` image–text rows of `text_len` tokens (task token
// included) and `regions` regions through every layer of `model`.
double activation_bytes(const ModelConfig& model, int64_t rows, int64_t text_len, int64_t regions, bool bf16);

}  // namespace vlmt

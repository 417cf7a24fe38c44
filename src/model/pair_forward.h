#pragma once
// Every caption against every image from their one-stream encodings (retrieval evaluation,
// tools/dev/bench_retrieval): the one place that knows the pairing order.
#include "model/multitask_model.h"

namespace vlmt {

// The trunk's joint part on all text × image pairs: row k·images + i pairs text row k with image
// row i. Returns the model output over those rows.
ModelOutput forward_every_pair(MultiTaskModelImpl& model, const StreamEncoding& text, const StreamEncoding& image);

// How a captions × images score matrix is covered by passes of about `rows` pairs: a chunk of
// `chunk` images (all of them when they fit) against a group of `group` captions.
struct PairPasses {
  int64_t chunk = 1;
  int64_t group = 1;
};
PairPasses pair_passes(int64_t images, int64_t rows);

}  // namespace vlmt

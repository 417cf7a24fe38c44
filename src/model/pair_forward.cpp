#include "model/pair_forward.h"

#include <algorithm>

namespace vlmt {

ModelOutput forward_every_pair(MultiTaskModelImpl& model, const StreamEncoding& text, const StreamEncoding& image) {
  const int64_t images = image.hidden.size(0), texts = text.hidden.size(0);
  return model.forward_pairs({text.hidden.repeat_interleave(images, 0), text.mask.repeat_interleave(images, 0)},
                             {image.hidden.repeat({texts, 1, 1}), image.mask.repeat({texts, 1})});
}

PairPasses pair_passes(int64_t images, int64_t rows) {
  PairPasses p;
  p.chunk = std::max<int64_t>(1, std::min(images, rows));
  p.group = std::max<int64_t>(1, rows / p.chunk);
  return p;
}

}  // namespace vlmt

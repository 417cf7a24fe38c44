#pragma once
// The pretraining objective on the captions corpus (paper section 3.1, train_concap.py): masked
// words, masked regions (KL to the detector's class distribution), image–caption alignment.
#include <torch/torch.h>

#include "data/batch.h"
#include "model/multitask_model.h"

namespace vlmt {

struct PretrainResult {
  torch::Tensor loss;
  torch::Tensor lm_loss, region_loss, alignment_loss;  // detached parts
  double lm_loss_value = 0, region_loss_value = 0, alignment_loss_value = 0;  // the same, on the host
  double alignment_correct = 0;
  int64_t count = 0;
  // For validation: masked words predicted right and their count (aligned pairs only), the
  // masked regions' KL summed and their count.
  double words_correct = 0, words_masked = 0;
  double region_kl_sum = 0, regions_masked = 0;
};
PretrainResult pretrain_objective(MultiTaskModelImpl& model, const Batch& batch);

}  // namespace vlmt

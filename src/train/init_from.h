#pragma once
// What train.init_from takes from an earlier stage's checkpoint.
#include <string>

#include "ckpt/checkpoint.h"

namespace vlmt {

// The parameters of `data` that its stage trained or carried from a trained source: the trunk
// ("bert."), the pretraining heads ("cls.", which every stage carries from the pretrained model)
// and the heads of the tasks its run had. A stage checkpoint also holds the heads it never trained
// — random initial values from another seed — and the released pretraining model has no task
// heads at all, so those are left out: they start from this run's initialisation (and
// train.head_bias_init). Logs the heads it leaves out; `path` names the file.
ckpt::NamedTensors trained_parameters(const ckpt::CheckpointData& data, const std::string& path);

}  // namespace vlmt

#pragma once
// train.init_from: a new run's parameters from an earlier stage's checkpoint or from a
// parameter file (a converted release, an import_bert output).
#include <set>
#include <string>
#include <vector>

#include "ckpt/checkpoint.h"
#include "model/multitask_model.h"

namespace vlmt {

// The parameters of `data` that its stage trained or carried from a trained source: the trunk
// ("bert."), the pretraining heads ("cls.", which every stage carries from the pretrained model)
// and the heads of the tasks its run had. A stage checkpoint also holds the heads it never trained
// — random initial values from another seed — and the released pretraining model has no task
// heads at all, so those are left out: they start from this run's initialisation (and
// train.head_bias_init). `left_out` receives the head prefixes ("vil_logit.") it leaves out.
// `catalog`: the checkpoint's run's datasets (its stored config's), whose kinds name the heads.
ckpt::NamedTensors trained_parameters(const ckpt::CheckpointData& data, const TaskCatalog& catalog,
                                      std::set<std::string>& left_out);

// Loads `path` into the model, strictly: every model parameter the file lacks must start with one
// of `expect_missing` (or be a head the source stage left out), and every tensor of the file must
// be a model parameter of the same shape; otherwise CheckpointError listing them, naming the file
// and train.init_expect_missing. What stays at its initial value is reported at WARN, by prefix.
// The answers stored with the file (ckpt/head_answers.h) become the model's provenance for the
// heads it loaded. Returns the names it loaded.
std::set<std::string> initialise_from(MultiTaskModelImpl& model, const std::string& path,
                                      const std::vector<std::string>& expect_missing);

}  // namespace vlmt

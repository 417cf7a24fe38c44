#pragma once
// What a model's weights were trained with, kept beside them: in memory on the model, on disk in
// stage checkpoints and parameter files (ckpt/head_answers.h, ckpt/checkpoint.h). It lets the
// jobs refuse to pair weights with the wrong answers or the wrong region features.
#include <map>
#include <string>
#include <vector>

namespace vlmt {

struct ModelProvenance {
  // Answer head (state_dict module name, e.g. "vil_prediction") → its answers; row i of the
  // head's output is answers[i]. Empty for heads never trained against a vocabulary.
  std::map<std::string, std::vector<std::string>> head_answers;
  // Feature-file fingerprint per task key ("<task>", "<task>_gt") of the training run; empty
  // when unknown (a converted release, a BERT import).
  std::map<std::string, std::string> feature_fingerprints;
  // The file the weights came from ("" for a fresh model), for messages.
  std::string source;
};

}  // namespace vlmt

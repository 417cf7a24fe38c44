#pragma once
// Maps a Hugging Face BERT checkpoint's names onto the ViLBERT text-stream names used by vlmt
// (the official vilbert-multi-task state_dict names):
//   [bert.]embeddings.{word,position,token_type}_embeddings.weight -> bert.embeddings.*
//   [bert.]embeddings.LayerNorm.{weight,bias|gamma,beta}          -> bert.embeddings.LayerNorm.*
//   [bert.]encoder.layer.N.<attention|intermediate|output>...      -> bert.encoder.layer.N....
//   cls.predictions.{bias,transform.*,decoder.weight}              -> same names
// Dropped (known, unused by ViLBERT): the pooler (ViLBERT's t_pooler is 768->1024), the NSP head
// cls.seq_relationship.*, embeddings.position_ids, cls.predictions.decoder.bias (a copy of
// cls.predictions.bias). Older checkpoints' LayerNorm.gamma/beta become weight/bias. Anything
// else is unknown.
#include <ostream>
#include <string>
#include <vector>

#include "ckpt/tensor_file.h"

namespace vlmt::ckpt {

// The ViLBERT name for one BERT name: known with a target (mapped), known with an empty target
// and a reason (dropped), or not known.
struct BertNameMapping {
  bool known = false;
  std::string target;  // empty when dropped
  std::string reason;  // why dropped
};
BertNameMapping map_bert_name(const std::string& hf_name);

struct BertImport {
  NamedTensors mapped;               // ViLBERT names, in input order
  std::vector<std::string> dropped;  // "<hf name>: <reason>"
  std::vector<std::string> unknown;  // hf names with no mapping
  std::vector<std::string> notes;    // e.g. the decoder tied from the word embeddings
};
// Maps every tensor. If the checkpoint has the word embeddings but no decoder weight (safetensors
// stores tied tensors once), cls.predictions.decoder.weight is added as the tied copy, as the
// official state_dict lists it. Throws CheckpointError if two names map to one target.
BertImport import_bert_tensors(const NamedTensors& hf_tensors);

// import_bert's job: reads a safetensors file, maps it, lists on `out` every name (mapped with its
// shape and dtype, dropped, notes, unknown) and writes the mapped tensors to the parameter file
// `out_path`. Throws CheckpointError, writing nothing, when names are unknown (unless
// `allow_partial`: they are skipped) or no BERT tensor was found.
BertImport import_bert_file(const std::string& safetensors_path, const std::string& out_path, bool allow_partial,
                            std::ostream& out);

}  // namespace vlmt::ckpt

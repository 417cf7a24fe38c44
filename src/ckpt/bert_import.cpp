#include "ckpt/bert_import.h"

#include <map>
#include <regex>
#include <set>

#include "ckpt/safetensors.h"
#include "core/error.h"
#include "core/log.h"

namespace vlmt::ckpt {
namespace {

// Old TensorFlow-converted checkpoints call the LayerNorm affine parameters gamma and beta.
std::string modern_layer_norm(std::string name) {
  static const std::regex gamma(R"(LayerNorm\.gamma$)"), beta(R"(LayerNorm\.beta$)");
  name = std::regex_replace(name, gamma, "LayerNorm.weight");
  return std::regex_replace(name, beta, "LayerNorm.bias");
}

}  // namespace

BertNameMapping map_bert_name(const std::string& hf_name) {
  static const std::regex embeddings(
      R"((bert\.)?embeddings\.((word|position|token_type)_embeddings\.weight|LayerNorm\.(weight|bias)))");
  static const std::regex layer(
      R"((bert\.)?encoder\.layer\.(\d+)\.(attention\.self\.(query|key|value)|attention\.output\.(dense|LayerNorm)|intermediate\.dense|output\.(dense|LayerNorm))\.(weight|bias))");
  static const std::regex predictions(
      R"(cls\.predictions\.(bias|decoder\.weight|transform\.(dense|LayerNorm)\.(weight|bias)))");
  static const std::regex pooler(R"((bert\.)?pooler\.dense\.(weight|bias))");
  static const std::regex nsp(R"(cls\.seq_relationship\.(weight|bias))");
  static const std::regex position_ids(R"((bert\.)?embeddings\.position_ids)");

  const std::string name = modern_layer_norm(hf_name);
  std::smatch m;
  BertNameMapping result;
  result.known = true;
  if (std::regex_match(name, m, embeddings)) {
    result.target = "bert.embeddings." + m[2].str();
  } else if (std::regex_match(name, m, layer)) {
    result.target = "bert.encoder.layer." + m[2].str() + "." + m[3].str() + "." + m[7].str();
  } else if (std::regex_match(name, predictions)) {
    result.target = name;
  } else if (std::regex_match(name, pooler)) {
    result.reason = "BERT pooler (ViLBERT's t_pooler is a new 768->1024 layer)";
  } else if (std::regex_match(name, nsp)) {
    result.reason = "next-sentence head (ViLBERT uses its own bi_seq_relationship)";
  } else if (std::regex_match(name, position_ids)) {
    result.reason = "position_ids buffer (a constant arange)";
  } else if (name == "cls.predictions.decoder.bias") {
    result.reason = "copy of cls.predictions.bias";
  } else {
    result.known = false;
  }
  return result;
}

BertImport import_bert_tensors(const NamedTensors& hf_tensors) {
  BertImport out;
  std::map<std::string, std::string> source_of;  // target -> hf name
  for (const auto& [hf_name, tensor] : hf_tensors) {
    BertNameMapping m = map_bert_name(hf_name);
    if (!m.known) {
      out.unknown.push_back(hf_name);
    } else if (m.target.empty()) {
      out.dropped.push_back(cat(hf_name, ": ", m.reason));
    } else {
      auto [it, inserted] = source_of.emplace(m.target, hf_name);
      if (!inserted) {
        throw CheckpointError(cat("BERT names ", it->second, " and ", hf_name,
                                  " both map to ", m.target));
      }
      out.mapped.emplace_back(m.target, tensor);
    }
  }
  const std::string word = "bert.embeddings.word_embeddings.weight";
  const std::string decoder = "cls.predictions.decoder.weight";
  if (source_of.count(word) && !source_of.count(decoder)) {
    for (const auto& [name, tensor] : out.mapped) {
      if (name == word) {
        out.mapped.emplace_back(decoder, tensor);
        break;
      }
    }
    out.notes.push_back(cat(decoder, " added as the tied copy of ", word));
  }
  return out;
}

BertImport import_bert_file(const std::string& safetensors_path, const std::string& out_path, bool allow_partial,
                            std::ostream& out) {
  const std::string& in = safetensors_path;
  SafetensorsFile file = read_safetensors(in);
  BertImport result = import_bert_tensors(file.tensors);
  out << "import_bert: " << in << ": " << file.tensors.size() << " tensors, " << result.mapped.size() << " mapped, "
      << result.dropped.size() << " dropped, " << result.unknown.size() << " unknown\n";
  for (const auto& [name, t] : result.mapped)
    out << "  mapped   " << name << " " << t.sizes() << " " << t.scalar_type() << "\n";
  for (const auto& d : result.dropped) out << "  dropped  " << d << "\n";
  for (const auto& n : result.notes) out << "  note     " << n << "\n";
  for (const auto& u : result.unknown) out << "  UNKNOWN  " << u << "\n";
  if (!result.unknown.empty() && !allow_partial) {
    throw CheckpointError(cat("import_bert: ", in, ": ", result.unknown.size(),
                              " unknown tensor names (listed above; first: ", result.unknown.front(),
                              "); pass --allow-partial to skip them"));
  }
  if (result.mapped.empty()) throw CheckpointError(cat("import_bert: ", in, ": no BERT tensors found"));
  write_tensors(out_path, result.mapped);
  out << "import_bert: wrote " << result.mapped.size() << " tensors to " << out_path << "\n";
  return result;
}

}  // namespace vlmt::ckpt

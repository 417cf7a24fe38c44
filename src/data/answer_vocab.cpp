#include "data/answer_vocab.h"

#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "data/annotations.h"

namespace fs = std::filesystem;

namespace vlmt {

std::string answer_vocab_path(const std::string& data_root, const TaskSpec& spec) {
  std::vector<std::string> tried;
  for (const std::string& dir : {spec.key, spec.shared_answers}) {
    if (dir.empty()) continue;
    const auto path = fs::path(data_root) / "annotations" / dir / "answers.json";
    if (fs::exists(path)) return path.string();
    tried.push_back(path.string());
  }
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : " or ") + t;
  throw DataError(cat(spec.key, ": no answer vocabulary (", list, ")"));
}

std::vector<std::string> read_answer_vocab(const std::string& data_root, const TaskSpec& spec) {
  return read_answer_vocab(answer_vocab_path(data_root, spec));
}

}  // namespace vlmt

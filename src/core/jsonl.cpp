#include "core/jsonl.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {
namespace {

// True when the file exists, is not empty and its last byte is not a newline.
bool ends_with_partial_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() <= 0) return false;
  in.seekg(-1, std::ios::end);
  char last = '\n';
  in.get(last);
  return last != '\n';
}

}  // namespace

JsonlWriter::JsonlWriter(const std::string& path) : path_(path) {
  const bool repair = ends_with_partial_line(path);
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr)
    throw Error(ExitCode::kFailure,
                cat("cannot open ", path, " for appending: ", std::strerror(errno)));
  if (repair) {
    std::fputc('\n', file_);
    std::fflush(file_);
  }
}

JsonlWriter::~JsonlWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void JsonlWriter::write(const nlohmann::json& record) {
  if (!record.is_object())
    throw Error(ExitCode::kFailure, cat("JSONL record for ", path_, " is not an object: ",
                                        record.dump()));
  // Serialise outside the lock; NaN/inf become null (JSON has no such numbers).
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    throw Error(ExitCode::kFailure, cat("cannot write to ", path_, ": ", std::strerror(errno)));
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(cat("cannot open JSON Lines file ", path));
  std::vector<nlohmann::json> records;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(cat(path, ":", number, ": malformed JSON: ", e.what()));
    }
    if (!record.is_object())
      throw DataError(cat(path, ":", number, ": expected a JSON object, got: ", line.substr(0, 80)));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace vlmt

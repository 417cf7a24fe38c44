#pragma once
// JSON Lines files: one JSON object per line. Used for metrics.jsonl, which a resumed run keeps
// appending to and which other tools read while training runs, so every record is written
// whole and flushed before the call returns.
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vlmt {

class JsonlWriter {
 public:
  // Opens `path` for appending (creating it if needed). If a crash left the file ending in a
  // partial line, a newline is written first so the next record starts on its own line.
  // Throws vlmt::Error naming the path when the file cannot be opened.
  explicit JsonlWriter(const std::string& path);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  // Appends one record (must be a JSON object) and flushes. Safe to call from several threads.
  void write(const nlohmann::json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

// Reads every record of a JSON Lines file; empty lines are skipped. Throws DataError naming the
// file and line number for a line that is not a JSON object.
std::vector<nlohmann::json> read_jsonl(const std::string& path);

}  // namespace vlmt

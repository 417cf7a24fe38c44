#pragma once
// Errors and the process exit codes they map to. Every executable catches vlmt::Error at the
// top of main, prints the message and returns its code, on every rank, so a bad input never
// turns into an MPI hang.
#include <stdexcept>
#include <string>

namespace vlmt {

// Documented exit codes (docs/EXIT_CODES.md).
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,     // unexpected internal error
  kConfig = 2,      // bad configuration or command line
  kData = 3,        // missing or malformed data file, annotation or id
  kCheckpoint = 4,  // unreadable, corrupt or incompatible checkpoint
  kPreempted = 75,  // stopped by a signal or --max-hours after writing a checkpoint (EX_TEMPFAIL)
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

struct ConfigError : Error {
  explicit ConfigError(const std::string& what) : Error(ExitCode::kConfig, what) {}
};
struct DataError : Error {
  explicit DataError(const std::string& what) : Error(ExitCode::kData, what) {}
};
struct CheckpointError : Error {
  explicit CheckpointError(const std::string& what) : Error(ExitCode::kCheckpoint, what) {}
};

}  // namespace vlmt

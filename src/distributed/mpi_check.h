#pragma once
// Turns an MPI return code into a vlmt::Error carrying MPI's own description.
#include <mpi.h>

#include <string>

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

inline void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(ExitCode::kFailure, cat(what, " failed: ", std::string(text, len)));
}

}  // namespace vlmt

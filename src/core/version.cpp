#include "core/version.h"

#include <mpi.h>
#include <torch/version.h>

#include <H5public.h>

#include "core/log.h"
#include "vlmt_git_describe.h"  // generated at every build: VLMT_GIT_DESCRIBE (cmake/git_describe.cmake)

namespace vlmt {

std::string version_text(const std::string& program) {
  // MPI_Get_library_version may be called before MPI_Init; its text is long: keep the first
  // part ("Open MPI v4.1.4").
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int length = 0;
  MPI_Get_library_version(mpi, &length);
  std::string mpi_text(mpi, static_cast<size_t>(length));
  if (auto cut = mpi_text.find_first_of(",\n"); cut != std::string::npos) mpi_text.resize(cut);
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return cat(program, " (vlmt ", VLMT_VERSION, ", git ", VLMT_GIT_DESCRIBE, ")\nLibTorch ", TORCH_VERSION, "; ",
             mpi_text, "; HDF5 ", major, ".", minor, ".", release);
}

}  // namespace vlmt

#pragma once
// What `--version` prints: vlmt's version and commit and the versions of the libraries it runs
// on, as found at run time where the library can say (MPI, HDF5) and at build time otherwise.
#include <string>

namespace vlmt {

// "PROGRAM (vlmt 0.1.0, git v0.1-12-gabc1234)\nLibTorch 1.13.0; Open MPI v4.1.4; HDF5 1.10.8"
std::string version_text(const std::string& program);

}  // namespace vlmt

#include "distributed/local_communicator.h"

#include "core/error.h"
#include "core/log.h"

namespace vlmt {

void LocalCommunicator::all_reduce(torch::Tensor& tensor, ReduceOp /*op*/) {
  // Sum, max and min over one rank are the tensor itself.
  if (!tensor.defined()) throw Error(ExitCode::kFailure, "all_reduce on an undefined tensor");
}

void LocalCommunicator::broadcast(torch::Tensor& tensor, int root) {
  if (root != 0) throw Error(ExitCode::kFailure, cat("broadcast root ", root, " but size is 1"));
}

}  // namespace vlmt

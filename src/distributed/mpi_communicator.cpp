#include "distributed/mpi_communicator.h"

#include <algorithm>
#include <climits>

#include "core/error.h"
#include "core/log.h"
#include "distributed/mpi_check.h"

namespace vlmt {
namespace {

MPI_Datatype mpi_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    case torch::kUInt8: return MPI_UINT8_T;
    default:
      throw Error(ExitCode::kFailure, cat("MpiCommunicator: unsupported dtype ", type));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return MPI_SUM;
    case ReduceOp::kMax: return MPI_MAX;
    case ReduceOp::kMin: return MPI_MIN;
  }
  return MPI_SUM;
}

void check_tensor(const torch::Tensor& tensor, const char* what) {
  if (!tensor.defined() || !tensor.device().is_cpu() || !tensor.is_contiguous()) {
    throw Error(ExitCode::kFailure,
                cat("MpiCommunicator::", what, " needs a defined, contiguous CPU tensor"));
  }
}

// MPI counts are int: larger tensors go in chunks.
constexpr int64_t kMaxChunk = INT_MAX / 2;

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm parent, int thread_level)
    : thread_level_(thread_level) {
  check_mpi(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup");
  // Report failures as return codes (mapped to vlmt::Error) instead of MPI's default abort.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiCommunicator::all_reduce(torch::Tensor& tensor, ReduceOp op) {
  check_tensor(tensor, "all_reduce");
  const MPI_Datatype type = mpi_type(tensor.scalar_type());
  auto* base = static_cast<char*>(tensor.data_ptr());
  const int64_t item = tensor.element_size();
  for (int64_t start = 0; start < tensor.numel(); start += kMaxChunk) {
    const int count = static_cast<int>(std::min(kMaxChunk, tensor.numel() - start));
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, base + start * item, count, type, mpi_op(op), comm_),
              "MPI_Allreduce");
  }
}

void MpiCommunicator::broadcast(torch::Tensor& tensor, int root) {
  check_tensor(tensor, "broadcast");
  if (root < 0 || root >= size_) {
    throw Error(ExitCode::kFailure, cat("broadcast root ", root, " outside 0..", size_ - 1));
  }
  const MPI_Datatype type = mpi_type(tensor.scalar_type());
  auto* base = static_cast<char*>(tensor.data_ptr());
  const int64_t item = tensor.element_size();
  for (int64_t start = 0; start < tensor.numel(); start += kMaxChunk) {
    const int count = static_cast<int>(std::min(kMaxChunk, tensor.numel() - start));
    check_mpi(MPI_Bcast(base + start * item, count, type, root, comm_), "MPI_Bcast");
  }
}

void MpiCommunicator::barrier() { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

}  // namespace vlmt

#include "train/dsg_agreement.h"

#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "distributed/communicator.h"

namespace vlmt {
namespace {
constexpr int64_t kPackedSize = 6;
}

torch::Tensor pack_dsg_state(const DsgState& s) {
  int64_t best_bits = 0;
  static_assert(sizeof best_bits == sizeof s.best, "double must be 64 bits");
  std::memcpy(&best_bits, &s.best, sizeof best_bits);
  return torch::tensor({static_cast<int64_t>(s.mode), static_cast<int64_t>(s.has_best), best_bits,
                        static_cast<int64_t>(s.num_bad_epochs),
                        static_cast<int64_t>(s.cooldown_counter), s.epochs},
                       torch::kInt64);
}

DsgState unpack_dsg_state(const torch::Tensor& packed) {
  if (packed.scalar_type() != torch::kInt64 || packed.numel() != kPackedSize)
    throw Error(ExitCode::kFailure, cat("packed DSG state must be ", kPackedSize,
                                        " int64 values, got ", packed.numel()));
  const torch::Tensor p = packed.contiguous().cpu();
  const int64_t* v = p.data_ptr<int64_t>();
  DsgState s;
  s.mode = v[0] == 0 ? DsgMode::kGo : DsgMode::kStop;
  s.has_best = v[1] != 0;
  std::memcpy(&s.best, &v[2], sizeof s.best);
  s.num_bad_epochs = static_cast<int>(v[3]);
  s.cooldown_counter = static_cast<int>(v[4]);
  s.epochs = v[5];
  return s;
}

DsgState agree_dsg_state(Communicator& comm, const std::string& task, int64_t iteration,
                         const DsgState& local) {
  torch::Tensor decided = pack_dsg_state(local);
  comm.broadcast(decided, /*root=*/0);
  const DsgState root_state = unpack_dsg_state(decided);
  const bool agrees = root_state == local;

  // Everyone learns whether anyone disagreed (the highest such rank, 1-based; 0 = none).
  torch::Tensor disagreeing = torch::tensor({agrees ? int64_t{0} : int64_t{comm.rank() + 1}},
                                            torch::kInt64);
  comm.all_reduce(disagreeing, ReduceOp::kMax);
  const int64_t worst = disagreeing.item<int64_t>();
  if (worst == 0) return root_state;
  if (!agrees)
    throw Error(ExitCode::kFailure,
                cat("DSG decision for task ", task, " at iteration ", iteration, " differs: rank ",
                    comm.rank(), " computed ", local.describe(), " but rank 0 decided ",
                    root_state.describe()));
  throw Error(ExitCode::kFailure, cat("DSG decision for task ", task, " at iteration ", iteration,
                                      " differs between rank 0 and rank ", worst - 1,
                                      " (rank 0 decided ", root_state.describe(), ")"));
}

}  // namespace vlmt
